// The runtime of the generated JavaScript and TypeScript clients, written once: its types live in
// comments (`/*: T */` annotations, `/*:: … */` TypeScript-only code) that strip_types turns
// into TypeScript or drops. No libraries: fetch and WebCrypto (Node 18's from node:crypto).

#include "sdk/js_common.hpp"

namespace gatehouse::sdk::js {

namespace {

// What AWS's generated SDK does (apiGatewayCore: apiGatewayClient, sigV4Client, simpleHttpClient,
// utils), on fetch. Where AWS's differs from what the gateway verifies, this follows the gateway
// (and SigV4): header names signed in lower case and sorted, values trimmed; query names encoded
// too; path parameters fully encoded (url-template keeps "%XX" already in a value).
constexpr std::string_view source = R"js(/*::
// A value of a path, query string or header parameter.
export type ParamValue = string | number | boolean;
// fetch, or anything that answers as it does.
export type ApigFetch = (url: string, init: RequestInit) => Promise<Response>;
// newClient's settings, as AWS's SDK takes them (invokeUrl and fetch are gatehouse's).
export interface ApigClientConfig {
  accessKey?: string;
  secretKey?: string;
  sessionToken?: string;
  region?: string;
  apiKey?: string;
  defaultContentType?: string;
  defaultAcceptType?: string;
  invokeUrl?: string;
  fetch?: ApigFetch;
}
// Each method's third argument: headers and query parameters sent besides the modelled ones.
export interface AdditionalParams {
  headers?: Record<string, ParamValue | null | undefined>;
  queryParams?: Record<string, ParamValue | readonly ParamValue[] | null | undefined>;
}
// The request as sent (axios's `config`).
export interface ApigRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  data: string | undefined;
}
// What a method's Promise resolves to, shaped as axios's response; header names in lower case.
export interface ApigResponse<T = unknown> {
  data: T;
  status: number;
  statusText: string;
  headers: Record<string, string>;
  config: ApigRequest;
}
type Params = Record<string, unknown>;
interface Operation {
  method: string;
  path: string;
  query: readonly string[];
  headers: readonly string[];
  required: readonly string[];
}
interface Settings {
  accessKey: string;
  secretKey: string;
  sessionToken: string;
  region: string;
  apiKey: string;
  contentType: string;
  acceptType: string;
  invokeUrl: string;
  fetch: ApigFetch;
}
interface Invoker {
  call(op: Operation, params: object | null | undefined, body: unknown,
       additionalParams: AdditionalParams | null | undefined): Promise<ApigResponse>;
  invokeApi(method: string, path: string, body?: unknown,
            additionalParams?: AdditionalParams | null): Promise<ApigResponse>;
}
*/

// A method's Promise is rejected with this for an answer outside 2xx, as axios rejects it:
// error.response holds the answer (data, status, statusText, headers).
/*:: export */ class ApiError extends Error {
  /*:: response: ApigResponse; */
  constructor(message /*: string */, response /*: ApigResponse */) {
    super(message);
    this.name = 'ApiError';
    this.response = response;
  }
}

const encoder = new TextEncoder();

// RFC 3986 percent-encoding, as SigV4 wants it: encodeURIComponent leaves !'()* as they are.
function encodeRfc3986(text /*: string */) /*: string */ {
  return encodeURIComponent(text).replace(
    /[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

function isMissing(value /*: unknown */) /*: value is null | undefined */ {
  return value === undefined || value === null;
}

// '/pets/{petId}' with petId 'a/b c' → '/pets/a%2Fb%20c'. A greedy {proxy+} is encoded segment by
// segment ('/' kept) and expands to '' when missing, as in AWS's SDK.
function expandPath(template /*: string */, params /*: Params */) /*: string */ {
  return template.replace(/\{([^{}]+?)(\+?)\}/g,
    (_match /*: string */, name /*: string */, greedy /*: string */) => {
      const value = params[name];
      if (isMissing(value)) return '';
      const text = String(value);
      return greedy ? text.split('/').map((s) => encodeRfc3986(s)).join('/') : encodeRfc3986(text);
    });
}

// The query string, sent as it is signed: names and values encoded, sorted by name, then value
// (SigV4's canonical order); an array's values each as a parameter of the name.
function queryString(query /*: Params */) /*: string */ {
  const pairs /*: Array<[string, string]> */ = [];
  for (const name of Object.keys(query)) {
    const value = query[name];
    for (const item of Array.isArray(value) ? value : [value]) {
      if (!isMissing(item)) pairs.push([encodeRfc3986(name), encodeRfc3986(String(item))]);
    }
  }
  const order = (a /*: string */, b /*: string */) => (a < b ? -1 : a > b ? 1 : 0);
  pairs.sort((a, b) => order(a[0], b[0]) || order(a[1], b[1]));
  return pairs.map((p) => p[0] + '=' + p[1]).join('&');
}

// The parameters of `names` that `params` has.
function pick(params /*: Params */, names /*: readonly string[] */) /*: Params */ {
  const out /*: Params */ = {};
  for (const name of names) {
    if (!isMissing(params[name])) out[name] = params[name];
  }
  return out;
}

// Adds `from`'s headers, names in lower case: a later value of a name replaces an earlier one.
function addHeaders(into /*: Record<string, string> */, from /*: object | null | undefined */) {
  if (!from) return;
  const headers = from /*:: as Params */;
  for (const name of Object.keys(headers)) {
    const value = headers[name];
    if (!isMissing(value)) into[name.toLowerCase()] = String(value);
  }
}

// The body as AWS's SDK sends it: none for undefined, null, '' or an object without keys ({}),
// a string as it is, anything else as JSON.
function bodyText(body /*: unknown */) /*: string | undefined */ {
  if (isMissing(body) || body === '') return undefined;
  if (typeof body === 'string') return body;
  if (typeof body === 'object' && Object.keys(body).length === 0) return undefined;
  return JSON.stringify(body);
}

function hex(bytes /*: ArrayBuffer */) /*: string */ {
  return Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, '0')).join('');
}

let subtlePromise /*: Promise<SubtleCrypto> | undefined */;

// WebCrypto: globalThis.crypto in browsers (on https pages) and in Node 20 and later; Node 18
// has it only as node:crypto's webcrypto.
function subtleCrypto() /*: Promise<SubtleCrypto> */ {
  if (!subtlePromise) {
    subtlePromise = (async () => {
      const c = globalThis.crypto;
      if (c && c.subtle) return c.subtle;
      const name = 'node:crypto';  // a variable, so that bundlers do not try to resolve it
      try {
        const m = await import(/* webpackIgnore: true */ /* @vite-ignore */ name);
        return m.webcrypto.subtle /*:: as SubtleCrypto */;
      } catch {
        throw new Error('SigV4 signing needs WebCrypto (crypto.subtle); browsers give it to ' +
          'https pages only');
      }
    })();
  }
  return subtlePromise;
}

async function sha256(subtle /*: SubtleCrypto */, text /*: string */) /*: Promise<string> */ {
  return hex(await subtle.digest('SHA-256', encoder.encode(text)));
}

async function hmac(subtle /*: SubtleCrypto */, key /*: BufferSource */,
                    text /*: string */) /*: Promise<ArrayBuffer> */ {
  const k = await subtle.importKey('raw', key, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return subtle.sign('HMAC', k, encoder.encode(text));
}

// SigV4's canonical URI for every service but S3: the path as sent, each segment encoded again
// ('a%20b' → 'a%2520b'), empty segments dropped, a trailing '/' kept (URL parsing has removed
// '.' and '..' segments already).
function canonicalUri(path /*: string */) /*: string */ {
  const segments = path.split('/').filter((s) => s !== '').map((s) => encodeRfc3986(s));
  const uri = '/' + segments.join('/');
  return segments.length > 0 && path.endsWith('/') ? uri + '/' : uri;
}

// Signs a request with Signature Version 4 (service execute-api) as AWS's SDK does: host,
// x-amz-date and every header sent are signed; the session token is added after, unsigned.
async function sign(settings /*: Settings */, method /*: string */, url /*: URL */,
                    query /*: string */, headers /*: Record<string, string> */,
                    body /*: string | undefined */) /*: Promise<void> */ {
  const subtle = await subtleCrypto();
  const amzDate = new Date().toISOString().replace(/[:-]|\.\d{3}/g, '');
  const date = amzDate.slice(0, 8);
  delete headers['authorization'];
  headers['x-amz-date'] = amzDate;
  const signed /*: Record<string, string> */ = Object.assign({}, headers, { host: url.host });
  const names = Object.keys(signed).sort();
  const canonicalHeaders =
    names.map((n) => n + ':' + signed[n].trim().replace(/\s+/g, ' ') + '\n').join('');
  const signedHeaders = names.join(';');
  const canonicalRequest = [method, canonicalUri(url.pathname), query, canonicalHeaders,
    signedHeaders, await sha256(subtle, body === undefined ? '' : body)].join('\n');
  const scope = date + '/' + settings.region + '/execute-api/aws4_request';
  const stringToSign =
    ['AWS4-HMAC-SHA256', amzDate, scope, await sha256(subtle, canonicalRequest)].join('\n');
  let key /*: BufferSource */ = encoder.encode('AWS4' + settings.secretKey);
  for (const part of [date, settings.region, 'execute-api', 'aws4_request']) {
    key = await hmac(subtle, key, part);
  }
  headers['authorization'] = 'AWS4-HMAC-SHA256 Credential=' + settings.accessKey + '/' + scope +
    ', SignedHeaders=' + signedHeaders + ', Signature=' + hex(await hmac(subtle, key, stringToSign));
  if (settings.sessionToken) headers['x-amz-security-token'] = settings.sessionToken;
}

// A client's requests: `call` for the API's methods, `invokeApi` for any method and path.
function makeInvoker(invokeUrl /*: string */, region /*: string */,
                     config /*: ApigClientConfig | null | undefined */) /*: Invoker */ {
  const c /*: ApigClientConfig */ = config || {};
  const fetchImpl = c.fetch;
  const settings /*: Settings */ = {
    accessKey: c.accessKey || '',
    secretKey: c.secretKey || '',
    sessionToken: c.sessionToken || '',
    region: c.region || region,
    apiKey: c.apiKey || '',
    contentType: c.defaultContentType || 'application/json',
    acceptType: c.defaultAcceptType || 'application/json',
    invokeUrl: (c.invokeUrl || invokeUrl).replace(/\/+$/, ''),
    fetch: fetchImpl ? fetchImpl : (url, init) => globalThis.fetch(url, init),
  };

  async function send(method /*: string */, path /*: string */, query /*: Params */,
                      headers /*: Record<string, string> */,
                      body /*: unknown */) /*: Promise<ApigResponse> */ {
    const search = queryString(query);
    const url = new URL(settings.invokeUrl + path + (search ? '?' + search : ''));
    // fetch sends no body with GET or HEAD; AWS's SDK signs none.
    const data = method === 'GET' || method === 'HEAD' ? undefined : bodyText(body);
    if (settings.apiKey) headers['x-api-key'] = settings.apiKey;
    if (data === undefined) delete headers['content-type'];
    else if (!headers['content-type']) headers['content-type'] = settings.contentType;
    delete headers['host'];
    if (settings.accessKey && settings.secretKey) {
      await sign(settings, method, url, search, headers, data);
    }
    const request /*: ApigRequest */ = { method, url: url.href, headers, data };
    const response = await settings.fetch(url.href, { method, headers, body: data });
    const text = await response.text();
    let parsed /*: unknown */ = text;
    if (text !== '') {
      try {
        parsed = JSON.parse(text);
      } catch {
        // not JSON: the text
      }
    }
    const responseHeaders /*: Record<string, string> */ = {};
    response.headers.forEach((value, name) => {
      responseHeaders[name.toLowerCase()] = value;
    });
    const result /*: ApigResponse */ = {
      data: parsed,
      status: response.status,
      statusText: response.statusText,
      headers: responseHeaders,
      config: request,
    };
    if (response.status >= 200 && response.status < 300) return result;
    throw new ApiError('Request failed with status code ' + response.status, result);
  }

  function startHeaders() /*: Record<string, string> */ {
    return { accept: settings.acceptType };
  }

  return {
    // Throws at once, as AWS's SDK does, when a required parameter is missing.
    call(op, params, body, additionalParams) {
      const p = (params || {}) /*:: as Params */;
      for (const name of op.required) {
        if (isMissing(p[name])) throw new Error(name + ' must be defined');
      }
      const extra /*: AdditionalParams */ = additionalParams || {};
      const query = Object.assign(pick(p, op.query), extra.queryParams);
      const headers = startHeaders();
      addHeaders(headers, pick(p, op.headers));
      addHeaders(headers, extra.headers);
      return send(op.method, expandPath(op.path, p), query, headers, body);
    },
    // Any method and path under the invoke URL (e.g. an HTTP API's $default route): the path
    // is sent as given, so encode what needs encoding.
    invokeApi(method, path, body, additionalParams) {
      const extra /*: AdditionalParams */ = additionalParams || {};
      const headers = startHeaders();
      addHeaders(headers, extra.headers);
      const target = path.startsWith('/') ? path : '/' + path;
      return send(method.toUpperCase(), target, Object.assign({}, extra.queryParams), headers,
        body);
    },
  };
}
)js";

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\n')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\n')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::string_view runtime_source() { return source; }

std::string strip_types(std::string_view in, bool typed) {
  std::string out;
  out.reserve(in.size() + 256);
  std::size_t pos = 0;
  while (true) {
    const std::size_t open = in.find("/*:", pos);
    if (open == std::string_view::npos) break;
    const std::size_t close = in.find("*/", open + 3);
    if (close == std::string_view::npos) break;
    const bool code = in.substr(open + 3, 1) == ":";
    const std::string_view content =
        trim(in.substr(open + (code ? 4 : 3), close - open - (code ? 4 : 3)));
    std::string_view before = in.substr(pos, open - pos);
    std::size_t after = close + 2;
    // A comment alone on its line(s): its lines go, or become its code.
    const std::size_t line_start = before.find_last_of('\n');
    const bool starts_line =
        trim(before.substr(line_start == std::string_view::npos ? 0 : line_start + 1)).empty() &&
        (line_start != std::string_view::npos || pos == 0);
    const bool ends_line = after >= in.size() || in[after] == '\n';
    if (starts_line && ends_line) {
      out.append(before);
      if (typed) {
        out.append(content);
      } else {
        // Drop the indentation written before it, and its newline.
        while (!out.empty() && out.back() == ' ') out.pop_back();
        if (after < in.size()) ++after;
      }
    } else if (typed) {
      // "x /*: T */" → "x: T"; "y /*:: as T */" → "y as T".
      if (!code && before.ends_with(' ')) before.remove_suffix(1);
      out.append(before);
      if (!code) out.append(": ");
      out.append(content);
    } else {
      if (before.ends_with(' ')) {
        before.remove_suffix(1);
      } else if (after < in.size() && in[after] == ' ') {
        ++after;  // at a line's start: "/*:: export */ class" → "class"
      }
      out.append(before);
    }
    pos = after;
  }
  out.append(in.substr(pos));
  return out;
}

std::string runtime(bool typed) { return strip_types(source, typed); }

}  // namespace gatehouse::sdk::js
