#include "pets.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <charconv>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace petstore {

namespace {
struct pet {
  int id;
  std::string type;
  double price;
};

constexpr int page_size = 10;

// AWS's "array of pets" output mapping template (API Gateway developer guide).
constexpr const char* catalog_template = R"(#set($inputRoot = $input.path('$'))
[
#foreach($elem in $inputRoot)
  {
    "description" : "Item $elem.id is a $elem.type.",
    "askingPrice" : $elem.price
  }#if($foreach.hasNext),#end

#end
])";

// AWS's PetStore model: a pet's type is a dog, a cat or a fish, its price 25 to 500.
constexpr const char* pet_model = R"({
  "$schema": "http://json-schema.org/draft-04/schema#",
  "title": "Pet",
  "type": "object",
  "required": ["type", "price"],
  "properties": {
    "type": {"type": "string", "enum": ["dog", "cat", "fish"]},
    "price": {"type": "number", "minimum": 25, "maximum": 500}
  }
})";

class store {
 public:
  store() : pets_{{1, "dog", 249.99}, {2, "cat", 124.99}, {3, "fish", 0.99}} {}

  std::vector<pet> list(std::string_view type, int page) const {
    std::lock_guard lock(mutex_);
    std::vector<pet> out;
    int skip = (page - 1) * page_size;
    for (const auto& p : pets_) {
      if (!type.empty() && p.type != type) continue;
      if (skip-- > 0) continue;
      if (out.size() == page_size) break;
      out.push_back(p);
    }
    return out;
  }
  std::optional<pet> find(int id) const {
    std::lock_guard lock(mutex_);
    for (const auto& p : pets_)
      if (p.id == id) return p;
    return std::nullopt;
  }
  std::optional<pet> remove(int id) {
    std::lock_guard lock(mutex_);
    for (auto it = pets_.begin(); it != pets_.end(); ++it)
      if (it->id == id) {
        pet p = *it;
        pets_.erase(it);
        return p;
      }
    return std::nullopt;
  }
  std::map<std::string, int> count_by_type() const {
    std::lock_guard lock(mutex_);
    std::map<std::string, int> out;
    for (const auto& p : pets_) ++out[p.type];
    return out;
  }
  pet add(std::string type, double price) {
    std::lock_guard lock(mutex_);
    pets_.push_back({next_id_++, std::move(type), price});
    return pets_.back();
  }

 private:
  mutable std::mutex mutex_;
  std::vector<pet> pets_;
  int next_id_ = 4;
};

void write(rapidjson::Writer<rapidjson::StringBuffer>& w, const pet& p) {
  w.StartObject();
  w.Key("id"), w.Int(p.id);
  w.Key("type"), w.String(p.type.c_str());
  w.Key("price"), w.Double(p.price);
  w.EndObject();
}

gatehouse::proxy_result json(int status, const rapidjson::StringBuffer& buf) {
  gatehouse::proxy_result r;
  r.status_code = status;
  r.headers.add("Content-Type", "application/json");
  r.body.assign(buf.GetString(), buf.GetSize());
  return r;
}

gatehouse::proxy_result message(int status, std::string_view text) {
  // Messages echo client text (a pet id from the path: "%FF" decodes to a byte that is no
  // UTF-8), and RapidJSON writes string bytes as they are: JSON needs them as UTF-8.
  const std::string utf8 = gatehouse::as_valid_utf8(text);
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("message"), w.String(utf8.data(), static_cast<rapidjson::SizeType>(utf8.size()));
  w.EndObject();
  return json(status, buf);
}

std::optional<int> to_int(std::string_view s) {
  int v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

// The custom TOKEN authorizer of DELETE /pets/{petId}, as a Lambda authorizer would be written
// (token_handler): results are cached for 300 s per token.
gatehouse::Authorizer token_authorizer(std::string demo_token) {
  return gatehouse::Authorizer({.name = "demo-token",
                                .type = gatehouse::authorizer_type::token,
                                .identity_sources = {"method.request.header.Authorization"},
                                .validation_expression = "Bearer [-0-9A-Za-z._~+/]+=*"},
                               token_handler(std::move(demo_token)));
}

std::string claim(const gatehouse::authorizer_context& a, const char* name) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(a.claims_json.data(), a.claims_json.size());
  if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember(name) || !doc[name].IsString())
    return {};
  return doc[name].GetString();
}
}  // namespace

// The demo token gets a policy that allows every method (so that a cached result serves them
// all), any other token an explicit deny.
gatehouse::Authorizer::handler token_handler(std::string demo_token) {
  return [demo_token = std::move(demo_token)](const gatehouse::authorizer_request& req) {
    std::string_view token = req.authorization_token().substr(7);  // after "Bearer "
    if (token != demo_token) return gatehouse::authorizer_result::deny("anonymous");
    auto r = gatehouse::authorizer_result::allow("petstore-admin");
    r.context = {{"role", std::string("admin")}, {"level", 3.0}};
    return r;
  };
}

std::map<std::string, gatehouse::integration, std::less<>> make_functions() {
  auto pets = std::make_shared<store>();
  std::map<std::string, gatehouse::integration, std::less<>> f;
  // Each named as the export names it, so that the name is explicit where it is bound.
  auto add = [&f](const char* name, auto handler) {
    f.emplace(name, gatehouse::function(std::move(handler), {.name = name}));
  };
  add("GET-pets", [pets](const gatehouse::proxy_event& ev) {
    auto type = ev.query("type").value_or("");
    auto page_text = ev.query("page");
    auto page = page_text ? to_int(*page_text) : 1;
    if (!page || *page < 1) return message(400, "page must be a positive integer");
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    w.StartArray();
    for (const auto& p : pets->list(type, *page)) write(w, p);
    w.EndArray();
    return json(200, buf);
  });
  add("POST-pets", [pets](const gatehouse::proxy_event& ev) {
    rapidjson::Document doc;
    doc.Parse<rapidjson::kParseIterativeFlag>(ev.body().data(), ev.body().size());
    if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("type") ||
        !doc["type"].IsString() || !doc.HasMember("price") || !doc["price"].IsNumber())
      return message(400, "a pet is {\"type\": string, \"price\": number}");
    auto p = pets->add(doc["type"].GetString(), doc["price"].GetDouble());
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    write(w, p);
    return json(201, buf);
  });
  add("GET-pets-petId", [pets](const gatehouse::proxy_event& ev) {
    auto id_text = ev.path_parameter("petId").value_or("");
    auto id = to_int(id_text);
    auto p = id ? pets->find(*id) : std::nullopt;
    if (!p) return message(404, "Pet " + std::string(id_text) + " not found");
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    write(w, *p);
    return json(200, buf);
  });
  add("DELETE-pets-petId", [pets](const gatehouse::proxy_event& ev) {
    auto id_text = ev.path_parameter("petId").value_or("");
    auto id = to_int(id_text);
    auto p = id ? pets->remove(*id) : std::nullopt;
    if (!p) return message(404, "Pet " + std::string(id_text) + " not found");
    auto by = ev.context().authorizer.principal_id;
    return message(200, "Pet " + std::string(id_text) + " deleted by " + std::string(by));
  });
  add("GET-pets-petId-owner", [pets](const gatehouse::proxy_event& ev) {
    auto id_text = ev.path_parameter("petId").value_or("");
    auto id = to_int(id_text);
    if (!id || !pets->find(*id)) return message(404, "Pet " + std::string(id_text) + " not found");
    auto who = ev.context().authorizer;
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    w.StartObject();
    w.Key("petId"), w.Int(*id);
    auto sub = claim(who, "sub");
    w.Key("owner"), w.String(sub.c_str());
    auto iss = claim(who, "iss");
    w.Key("issuer"), w.String(iss.c_str());
    w.EndObject();
    return json(200, buf);
  });
  add("GET-admin-stats", [pets](const gatehouse::proxy_event& ev) {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    w.StartObject();
    int total = 0;
    w.Key("byType");
    w.StartObject();
    for (const auto& [type, n] : pets->count_by_type()) {
      w.Key(type.c_str()), w.Int(n);
      total += n;
    }
    w.EndObject();
    w.Key("pets"), w.Int(total);
    auto caller = ev.context().iam.user_arn;
    w.Key("caller"), w.String(caller.data(), static_cast<rapidjson::SizeType>(caller.size()));
    w.EndObject();
    return json(200, buf);
  });
  return f;
}

gatehouse::Router make_api(const api_settings& settings) {
  const bool key_everywhere = settings.key_everywhere;
  auto f = make_functions();
  gatehouse::Router api({.name = "PetStore", .id = settings.api_id});
  const gatehouse::method_options keyed{.api_key_required = true};
  const gatehouse::method_options open{.api_key_required = key_everywhere};
  // One authorizer object for the methods it guards: they share its result cache.
  const gatehouse::Authorizer demo_token = token_authorizer(settings.demo_token);
  gatehouse::method_options by_id = open;
  if (settings.authorize_reads) by_id.authorizer = demo_token;
  // GET /pets is cached per type and page (the stage turns its cache on).
  const gatehouse::method_options listing{
      .api_key_required = key_everywhere,
      .cache_key_parameters = {"method.request.querystring.type",
                               "method.request.querystring.page"}};

  api.route("GET", "/pets", f.at("GET-pets"), listing);

  // New pets are checked against the Pet model before the handler runs (AWS's request
  // validator "Validate body"): a bad body gets 400 {"message":"Invalid request body"}.
  api.model("Pet", pet_model);
  gatehouse::method_options adding = keyed;
  adding.request_models = {{"application/json", "Pet"}};
  adding.validation = gatehouse::request_validation::body;
  api.route("POST", "/pets", f.at("POST-pets"), adding);

  api.route("GET", "/pets/{petId}", f.at("GET-pets-petId"), by_id);

  // Deleting a pet takes the demo token (a custom authorizer).
  gatehouse::method_options admin = open;
  admin.authorizer = demo_token;
  api.route("DELETE", "/pets/{petId}", f.at("DELETE-pets-petId"), admin);

  // A pet's owner is for signed-in users: a JWT from the identity provider (a JWT authorizer).
  if (settings.owner_authorizer) {
    gatehouse::method_options signed_in = open;
    signed_in.authorizer = settings.owner_authorizer;
    api.route("GET", "/pets/{petId}/owner", f.at("GET-pets-petId-owner"), signed_in);
  }

  // Statistics are for the shop's staff: IAM users whose policies allow them (AWS_IAM).
  if (settings.admin_authorizer) {
    gatehouse::method_options staff = open;
    staff.authorizer = settings.admin_authorizer;
    api.route("GET", "/admin/stats", f.at("GET-admin-stats"), staff);
  }

  // The catalog: AWS's sample pets from a mock integration, reshaped by the "array of pets"
  // response mapping template of AWS's documentation.
  api.route("GET", "/catalog",
            gatehouse::mock({.body = R"([{"id":1,"type":"dog","price":249.99},)"
                                     R"({"id":2,"type":"cat","price":124.99},)"
                                     R"({"id":3,"type":"fish","price":0.99}])"}),
            {.api_key_required = key_everywhere,
             .integration_responses = {
                 {.status = 200, .response_templates = {{"application/json", catalog_template}}}}});

  // The legacy API, still served by an older HTTP backend: everything under /legacy goes there
  // as it is (AWS's HTTP_PROXY), to the host:port the stage variable `backend` names.
  api.route("ANY", "/legacy/{proxy+}",
            gatehouse::http_proxy("http://${stageVariables.backend}/{proxy}"), open);
  return api;
}

}  // namespace petstore
