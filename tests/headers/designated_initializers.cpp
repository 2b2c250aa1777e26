// Natural use of the option structs — designated initializers naming only what differs from the
// defaults — compiles without a warning at -Wall -Wextra -Werror (GCC 12 warns about every member
// a designated initializer leaves out unless the member has an initializer of its own). Built
// with the public headers alone (tests/CMakeLists.txt, gatehouse_headers_alone); never run.

#include <gatehouse/gatehouse.hpp>

#include <chrono>

namespace {
[[maybe_unused]] void option_structs() {
  using namespace std::chrono_literals;
  gatehouse::authorizer_options authorizer{.name = "a"};
  gatehouse::jwt_options jwt{.name = "j", .issuer = "https://issuer.example"};
  gatehouse::aws_service_options service{.region = "us-east-1"};
  gatehouse::lambda_options lambda{.function_name = "fn"};
  gatehouse::cache_settings cache{.ttl = 300s};
  gatehouse::server_limits limits{.max_connections = 10};
  gatehouse::listen_options listen{.private_endpoint = "vpce-1"};
  gatehouse::gateway_options gateway{.region = "us-east-1"};
  gatehouse::http_client_options client{.ca_file = "ca.pem"};
  gatehouse::client_request request{.url = "http://127.0.0.1/"};
  gatehouse::http_options http{.timeout = 1s};
  gatehouse::iam_options iam{.region = "us-east-1"};
  gatehouse::function_options function{.name = "fn"};
  gatehouse::mock_response mock{.body = "{}"};
  gatehouse::openapi_options openapi{.id = "abcdefghij"};
  gatehouse::export_options exported{.yaml = true};
  gatehouse::api_options api{.name = "shop"};
  gatehouse::method_options method{.api_key_required = true};
  gatehouse::sdk_options sdk{.name = "shop_sdk"};
  gatehouse::method_setting setting{.caching = false};
  gatehouse::usage_plan_options plan{.name = "basic"};
  gatehouse::websocket_route_options route{.two_way = true};
  gatehouse::websocket_api_options websocket_api{.name = "chat"};
  gatehouse::websocket_stage_options websocket_stage{.api_key_required = true};
  gatehouse::access_log_options access_log{.buffer_bytes = 4096};
  gatehouse::access_log_settings access_log_settings{.format = "clf"};
  (void)authorizer, (void)jwt, (void)service, (void)lambda, (void)cache, (void)limits;
  (void)listen, (void)gateway, (void)client, (void)request, (void)http, (void)iam;
  (void)function, (void)mock, (void)openapi, (void)exported, (void)api, (void)method;
  (void)sdk, (void)setting, (void)plan, (void)route, (void)websocket_api, (void)websocket_stage;
  (void)access_log, (void)access_log_settings;
}
}  // namespace
