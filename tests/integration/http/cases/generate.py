#!/usr/bin/env python3
"""Writes this folder's cases (NN-slug.raw + NN-slug.meta.json + INDEX.tsv), in the format of
../shared/vectors/http. With --nginx PORT it also sends each case to an nginx on 127.0.0.1:PORT
(any `location / { return 200 ...; }` server) and records what nginx answered; with --before
PORT the same for a gatehouse built before these checks (targets moved under /prod)."""

import argparse
import json
import pathlib
import socket

HERE = pathlib.Path(__file__).resolve().parent
H = "Host: gatehouse.test\r\n"

# (name, category, title, source, raw bytes, expected_strict, handler_path or None)
CASES = []


def case(name, category, title, source, raw, expected, handler_path=None):
    CASES.append((name, category, title, source, raw, expected, handler_path))


def req(target, fields=H, method="GET", version="HTTP/1.1", body=b""):
    head = f"{method} ".encode() + target + f" {version}\r\n".encode() + fields.encode("latin-1")
    return head + b"\r\n" + body


REJECT = "reject"
ACCEPT = "accept"

# RFC 9112 5.1: no whitespace between a field name and the colon.
s51 = "RFC 9112 5.1"
case("101-space-before-colon-x-api-key", "header-name/space", "X-Api-Key with SP before the colon",
     s51, req(b"/pets", H + "X-Api-Key : demo0123456789demo0123456789\r\n"), REJECT)
case("102-space-before-colon-authorization", "header-name/space",
     "Authorization with SP before the colon", s51,
     req(b"/pets", H + "Authorization : Bearer allow\r\n"), REJECT)
case("103-space-before-colon-host", "header-name/space", "the only Host field, SP before the colon",
     s51, req(b"/pets", "Host : gatehouse.test\r\n"), REJECT)
case("104-two-spaces-before-colon", "header-name/space", "two SP before the colon", s51,
     req(b"/pets", H + "X-Api-Key  : k\r\n"), REJECT)
case("105-htab-before-colon", "header-name/space", "HTAB before the colon", s51,
     req(b"/pets", H + "X-Api-Key\t: k\r\n"), REJECT)
case("106-space-before-colon-in-trailer", "header-name/space",
     "a chunked body's trailer field with SP before the colon", s51,
     req(b"/pets", H + "Transfer-Encoding: chunked\r\n", method="POST",
         body=b"2\r\nab\r\n0\r\nX-Api-Key : k\r\n\r\n"), REJECT)
case("107-space-before-colon-content-type", "header-name/space",
     "Content-Type with SP before the colon, before a body", s51,
     req(b"/pets", H + "Content-Type : application/json\r\nContent-Length: 2\r\n", method="POST",
         body=b"{}"), REJECT)

# RFC 9112 5.2 and 2.2: obs-fold, and whitespace before the first field.
case("108-obs-fold-x-api-key", "obs-fold", "X-Api-Key continued on an obs-fold line (SP)",
     "RFC 9112 5.2", req(b"/pets", H + "X-Api-Key: demo\r\n 0123456789\r\n"), REJECT)
case("109-obs-fold-authorization-htab", "obs-fold",
     "Authorization continued on an obs-fold line (HTAB)", "RFC 9112 5.2",
     req(b"/pets", H + "Authorization: Bearer\r\n\tallow\r\n"), REJECT)
case("110-space-before-first-field", "obs-fold",
     "SP between the start line and the first field, hiding X-Api-Key", "RFC 9112 2.2",
     req(b"/pets", " X-Api-Key: k\r\n" + H), REJECT)

# RFC 9112 3.2: Host.
s32 = "RFC 9112 3.2"
case("111-http11-without-host", "host", "HTTP/1.1 request without Host", s32,
     req(b"/pets", ""), REJECT)
case("112-http10-without-host-ok", "host", "HTTP/1.0 request without Host", s32,
     req(b"/pets", "", version="HTTP/1.0"), ACCEPT, "/pets")
case("113-two-host-fields", "host", "two Host fields", s32,
     req(b"/pets", H + "Host: other.test\r\n"), REJECT)
case("114-http10-two-host-fields", "host", "two Host fields in an HTTP/1.0 request", s32,
     req(b"/pets", H + "Host: other.test\r\n", version="HTTP/1.0"), REJECT)
case("115-host-value-with-path", "host", "a Host value that is no host[:port]", s32,
     req(b"/pets", "Host: gatehouse.test/admin\r\n"), REJECT)
case("116-host-value-with-space", "host", "a Host value with SP inside", s32,
     req(b"/pets", "Host: gatehouse.test evil.test\r\n"), REJECT)
case("117-host-empty-ok", "host", "an empty Host (a target without authority)", s32,
     req(b"/pets", "Host:\r\n"), ACCEPT, "/pets")
case("118-host-ip-literal-port-ok", "host", "Host with an IPv6 literal and a port", s32,
     req(b"/pets", "Host: [::1]:8443\r\n"), ACCEPT, "/pets")

# RFC 9112 3.2 / RFC 3986: request-target bytes.
s3986 = "RFC 9112 3.2, RFC 3986 3.3-3.4"
case("119-target-raw-utf8", "request-target", "raw UTF-8 (U+00E9) in the path", s3986,
     req(b"/caf\xc3\xa9"), REJECT)
case("120-target-raw-invalid-utf8", "request-target", "a raw 0xFF byte in the path", s3986,
     req(b"/pets/\xff"), REJECT)
case("121-target-raw-high-byte-query", "request-target", "a raw 0xE9 byte in the query", s3986,
     req(b"/pets?type=caf\xe9"), REJECT)
case("122-target-htab", "request-target", "HTAB in the path", s3986, req(b"/pe\tts"), REJECT)
case("123-target-form-feed", "request-target", "FF in the query", s3986,
     req(b"/pets?type=\x0cdog"), REJECT)
case("124-target-nul", "request-target", "NUL in the path", s3986, req(b"/pets/\x001"), REJECT)
case("125-target-del", "request-target", "DEL in the path", s3986, req(b"/pets/\x7f1"), REJECT)
case("126-target-space-in-query", "request-target", "SP inside the query", s3986,
     req(b"/pets?type=a dog"), REJECT)
for n, (ch, where) in enumerate([('"', "path"), ("<", "path"), (">", "path"), ("\\", "path"),
                                 ("^", "path"), ("`", "path"), ("{", "query"), ("|", "query"),
                                 ("}", "query"), ("[", "query"), ("]", "path")]):
    slug = {'"': "dquote", "<": "lt", ">": "gt", "\\": "backslash", "^": "caret", "`": "backtick",
            "{": "lbrace", "|": "pipe", "}": "rbrace", "[": "lbracket", "]": "rbracket"}[ch]
    target = (b"/pets/1" + ch.encode() + b"x") if where == "path" else (
        b"/pets?type=" + ch.encode() + b"dog")
    # Browsers send these as they are and nginx takes them; AWS refuses '{', '|', '}' in a query.
    refused = ch in "{|}"
    case(f"{127 + n}-target-{slug}", "request-target", f"'{ch}' in the {where}", s3986,
         req(target), REJECT if refused else ACCEPT,
         # (the runner reads handler_path without JSON escapes: none for '"' and '\\')
         None if refused or ch in '"\\' else target.split(b"?")[0].decode())
case("138-target-bad-percent-in-path", "request-target", "'%' without two hex digits in the path",
     "RFC 3986 2.1", req(b"/pets/%zz"), REJECT)
case("139-target-second-hash", "request-target", "a '#' inside the fragment", "RFC 3986 3.5",
     req(b"/pets#a#b"), REJECT)
case("140-target-percent-encoded-ok", "request-target",
     "every refused byte, percent-encoded, in path and query", s3986,
     req(b"/pets/caf%C3%A9%FF%22%3C%3E%5C%5E%60?q=%7B%7C%7D%5B%5D%20%09%00%7F"), ACCEPT,
     "/pets/caf%C3%A9%FF%22%3C%3E%5C%5E%60")
case("141-target-sub-delims-ok", "request-target",
     "unreserved, sub-delims, ':' and '@' in the path; '/' and '?' in the query", s3986,
     req(b"/pets/a-._~!$&'()*+,;=:@?x=/?:@!$'()*+,;="), ACCEPT, "/pets/a-._~!$&'()*+,;=:@")
case("142-target-fragment-dropped", "request-target", "a fragment after the query", "RFC 3986 3.5",
     req(b"/pets?type=dog#top"), ACCEPT, "/pets")
case("143-target-percent-in-query-ok", "request-target",
     "a '%' without hex digits in the query (as nginx takes it)", "RFC 3986 2.1",
     req(b"/pets?discount=50%"), ACCEPT, "/pets")


def observe(port, raw):
    s = socket.create_connection(("127.0.0.1", port), timeout=3)
    s.sendall(raw)
    data = b""
    closed = False
    try:
        while True:
            d = s.recv(65536)
            if not d:
                closed = True
                break
            data += d
    except socket.timeout:
        pass
    s.close()
    line = data.split(b"\r\n", 1)[0].decode("latin-1") if data else "(nothing)"
    return line + (" [closed]" if closed else "")


def under_stage(raw):
    sp = raw.index(b" ")
    return raw[:sp + 1] + b"/prod" + raw[sp + 1:] if raw[sp + 1:sp + 2] == b"/" else raw


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--nginx", type=int)
    ap.add_argument("--before", type=int)
    a = ap.parse_args()
    for f in list(HERE.glob("*.raw")) + list(HERE.glob("*.meta.json")):
        f.unlink()
    rows = ["case\tcategory\texpected_strict\tnginx 1.22.1\tgatehouse before\tsource"]
    for name, cat, title, source, raw, expected, path in CASES:
        (HERE / f"{name}.raw").write_bytes(raw)
        meta = {"name": name, "category": cat, "title": title,
                "source": {"derived": "gatehouse, issue 20 item 3", "rule": source},
                "expected_strict": expected, "bytes": len(raw)}
        if path is not None:
            meta["handler_path"] = path
        body = raw.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in raw else b""
        if expected == ACCEPT:
            meta["bodyLen"] = len(body)
        ng = observe(a.nginx, raw) if a.nginx else "-"
        before = observe(a.before, under_stage(raw)) if a.before else "-"
        meta["nginx_observed"] = ng
        meta["gatehouse_before_observed"] = before
        (HERE / f"{name}.meta.json").write_text(json.dumps(meta, indent=1) + "\n")
        rows.append(f"{name}\t{cat}\t{expected}\t{ng}\t{before}\t{source}")
    (HERE / "INDEX.tsv").write_text("\n".join(rows) + "\n")


if __name__ == "__main__":
    main()
