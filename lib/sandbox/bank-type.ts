/**
 * The payer's bank_type. WeChat now answers OTHERS for anything but a bank card (零钱, 零钱通...: "实际操作中
 * 使用零钱支付bank_type返回的是OTHERS，文档中说明是'其他（银行卡除外）'", a WeChat community question), and a
 * card's code such as CMB_CREDIT or ICBC_DEBIT (the 参数规定 page's 银行类型 table); never the old CFT.
 */
export const DEFAULT_BANK_TYPE = 'OTHERS';

/** A bank_type option: upper-case letters, digits and underscores, as in WeChat's table; default OTHERS. */
export function readBankType(v: unknown): { ok: true; bankType: string } | { ok: false; message: string } {
  if (v === undefined || v === '') return { ok: true, bankType: DEFAULT_BANK_TYPE };
  if (typeof v !== 'string' || !/^[A-Z][A-Z0-9_]{1,31}$/.test(v)) return { ok: false, message: 'bank_type must be a WeChat bank code such as OTHERS, CMB_CREDIT or ICBC_DEBIT' };
  return { ok: true, bankType: v };
}
