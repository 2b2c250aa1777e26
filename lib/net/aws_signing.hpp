#pragma once

// SigV4 signing of the HTTP client's calls: the header block a signed call sends, computed over
// exactly what the client writes (method, target, Host, the fields, the body). http_client and
// the AWS-service integrations share it; client_core stays unaware of signing.

#include "net/client_core.hpp"

#include <gatehouse/http_client.hpp>

#include <string>
#include <string_view>

namespace gatehouse::detail {

/// The header fields of a signed call: those `fields` writes, less any the signer owns
/// (Authorization, X-Amz-Date, and X-Amz-Security-Token / X-Amz-Content-Sha256 when it sets
/// them), then Authorization, X-Amz-Date and, when set, X-Amz-Security-Token and
/// X-Amz-Content-Sha256. The signature covers `method`, `target` (as sent: an empty path is
/// "/"), Host = `authority`, every field written and `body`.
std::string signed_head_fields(const aws_signing& signing, std::string_view method,
                               std::string_view authority, std::string_view target,
                               head_writer fields, std::string_view body);

/// A head_writer that appends `block` ("Name: value\r\n" lines) as it is; `block` must outlive
/// the call.
head_writer verbatim_fields(const std::string& block) noexcept;

}  // namespace gatehouse::detail
