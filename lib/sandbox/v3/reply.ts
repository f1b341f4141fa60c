/** What a sandbox v3 API answers; http.ts signs it (sign: true) and writes it unchanged. */
export interface V3Reply {
  status: number;
  body: string | Buffer;
  contentType?: string;
  /** Every answer WeChat Pay sends is signed except the bill file (its SHA1 is the proof). */
  sign: boolean;
  /** DROP_RESPONSE fault: the call ran and committed, the answer is lost. */
  dropped?: boolean;
}

/** A JSON answer, signed. */
export function v3Json(status: number, data: unknown): V3Reply {
  return { status, body: JSON.stringify(data), sign: true };
}

/** 204 No Content (close), still signed over the empty body. */
export const V3_NO_CONTENT: V3Reply = { status: 204, body: '', sign: true };

/** A v3 error: HTTP status with `{code, message, detail?}`, as WeChat answers. */
export function v3Error(status: number, code: string, message: string, detail?: Record<string, unknown>): V3Reply {
  return v3Json(status, detail ? { code, message, detail } : { code, message });
}

/** PARAM_ERROR naming the field (JSON pointer) and where it was, as WeChat's detail does. */
export function v3ParamError(field: string, issue: string, location: 'body' | 'query' | 'path' = 'body', value?: unknown): V3Reply {
  return v3Error(400, 'PARAM_ERROR', `参数错误：${field} ${issue}`, { field, location, issue, ...(value !== undefined ? { value } : {}) });
}
