'use server';

import { revalidatePath } from 'next/cache';
import { isMerchant } from '@/app/_http/merchant-session';
import { createProduct, setProductActive, updateProduct } from '@/lib/checkout/catalog';
import { requestLocale } from '../../_components/locale';
import type { ActionResult } from '../_components/types';

const DENIED: ActionResult = { ok: false, code: 'UNAUTHORIZED', message: 'merchant login required' };

function fields(form: FormData) {
  return {
    sku: String(form.get('sku') ?? ''),
    name: String(form.get('name') ?? ''),
    description: String(form.get('description') ?? ''),
    priceYuan: String(form.get('price') ?? ''),
  };
}

function refresh() {
  revalidatePath('/merchant/products');
  revalidatePath('/');
}

export async function createProductAction(_prev: ActionResult | null, form: FormData): Promise<ActionResult> {
  if (!(await isMerchant())) return DENIED;
  const en = (await requestLocale()) === 'en';
  const r = await createProduct(fields(form), en);
  if (!r.ok) return r;
  refresh();
  return { ok: true, message: en ? `Added ${r.product.sku}` : `已添加 ${r.product.sku}` };
}

export async function updateProductAction(sku: string, _prev: ActionResult | null, form: FormData): Promise<ActionResult> {
  if (!(await isMerchant())) return DENIED;
  const en = (await requestLocale()) === 'en';
  const r = await updateProduct(String(sku), fields(form), en);
  if (!r.ok) return r;
  refresh();
  return { ok: true, message: en ? 'Saved' : '已保存' };
}

export async function setProductActiveAction(sku: string, active: boolean, _prev: ActionResult | null, _form: FormData): Promise<ActionResult> {
  if (!(await isMerchant())) return DENIED;
  const en = (await requestLocale()) === 'en';
  const r = await setProductActive(String(sku), active === true, en);
  if (!r.ok) return r;
  refresh();
  return { ok: true, message: active ? (en ? 'On sale' : '已上架') : (en ? 'Deactivated' : '已下架') };
}
