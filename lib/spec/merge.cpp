// PutRestApi's two modes, on the API model. merge: the document's methods replace the API's
// methods of the same resource and HTTP method and the rest stays; authorizers, models,
// validators and gateway responses likewise by name; binary media types are joined (recorded
// from AWS: [image/heif] + [image/png, image/jpg] → [image/heif, image/png, image/jpg]); name,
// version and description come from the document. overwrite: the API becomes the document
// (recorded: → [image/png, image/jpg]). In both the API keeps its id, and its endpoint
// configuration, which AWS's guide lists among what a PutRestApi leaves alone.

#include "spec/import.hpp"

#include <rapidjson/document.h>

#include <algorithm>

namespace gatehouse::spec {

namespace {
// Replaces the element of `into` whose key equals `item`'s, else appends `item`.
template <class T, class Key>
void put(std::vector<T>& into, const T& item, Key key) {
  auto same =
      std::find_if(into.begin(), into.end(), [&](const T& x) { return key(x) == key(item); });
  if (same != into.end())
    *same = item;
  else
    into.push_back(item);
}

// The two extension objects joined, the document's members replacing the API's.
std::string joined_extensions(const std::string& api, const std::string& document) {
  rapidjson::Document out, doc;
  out.Parse(api.empty() ? "{}" : api.c_str());
  doc.Parse(document.empty() ? "{}" : document.c_str());
  if (out.HasParseError() || !out.IsObject()) out.SetObject();
  if (doc.HasParseError() || !doc.IsObject()) return json_text(out);
  auto& a = out.GetAllocator();
  for (auto& m : mutable_members(doc)) {
    auto it = out.FindMember(m.name);
    if (it != out.MemberEnd())
      it->value.CopyFrom(m.value, a);
    else
      out.AddMember(rapidjson::Value(m.name, a), rapidjson::Value(m.value, a), a);
  }
  return json_text(out);
}

bool has_extension(const std::string& extensions, const char* name) {
  rapidjson::Document d;
  d.Parse(extensions.empty() ? "{}" : extensions.c_str());
  return !d.HasParseError() && d.IsObject() && d.HasMember(name);
}
}  // namespace

rest_api_model put_rest_api(const rest_api_model& existing, const rest_api_model& document,
                            bool overwrite) {
  rest_api_model out = overwrite ? document : existing;
  out.id = existing.id;
  out.endpoint_types = existing.endpoint_types;
  out.vpc_endpoint_ids = existing.vpc_endpoint_ids;
  out.warnings = document.warnings;
  if (overwrite) return out;

  out.name = document.name;
  out.version = document.version;
  if (!document.description.empty()) out.description = document.description;
  out.base_path = document.base_path;
  for (const auto& t : document.binary_media_types)
    if (std::find(out.binary_media_types.begin(), out.binary_media_types.end(), t) ==
        out.binary_media_types.end())
      out.binary_media_types.push_back(t);
  if (document.minimum_compression_size)
    out.minimum_compression_size = document.minimum_compression_size;
  if (has_extension(document.extensions, "x-amazon-apigateway-api-key-source"))
    out.api_key_source = document.api_key_source;
  if (!document.policy.empty()) out.policy = document.policy;
  out.extensions = joined_extensions(existing.extensions, document.extensions);

  for (const auto& r : document.resources) {
    auto same = std::find_if(out.resources.begin(), out.resources.end(),
                             [&](const resource_model& x) { return x.path == r.path; });
    if (same == out.resources.end()) {
      out.resources.push_back(r);
      continue;
    }
    for (const auto& m : r.methods)
      put(same->methods, m, [](const method_model& x) { return x.http_method; });
  }
  std::sort(out.resources.begin(), out.resources.end(),
            [](const resource_model& a, const resource_model& b) { return a.path < b.path; });
  for (const auto& a : document.authorizers)
    put(out.authorizers, a, [](const authorizer_model& x) { return x.name; });
  for (const auto& v : document.validators)
    put(out.validators, v, [](const validator_model& x) { return x.name; });
  for (const auto& m : document.models)
    put(out.models, m, [](const model_model& x) { return x.name; });
  for (const auto& g : document.gateway_responses)
    put(out.gateway_responses, g, [](const gateway_response_model& x) { return x.type; });
  return out;
}

}  // namespace gatehouse::spec
