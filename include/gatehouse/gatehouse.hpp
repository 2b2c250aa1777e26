#pragma once

// The whole public API of gatehouse.
#include <gatehouse/access_log.hpp>
#include <gatehouse/api_keys.hpp>
#include <gatehouse/authorizer.hpp>
#include <gatehouse/aws_integration.hpp>
#include <gatehouse/cache.hpp>
#include <gatehouse/client_certificate.hpp>
#include <gatehouse/config_error.hpp>
#include <gatehouse/gateway.hpp>
#include <gatehouse/gateway_response.hpp>
#include <gatehouse/http.hpp>
#include <gatehouse/http_client.hpp>
#include <gatehouse/http_integration.hpp>
#include <gatehouse/iam.hpp>
#include <gatehouse/integration.hpp>
#include <gatehouse/openapi.hpp>
#include <gatehouse/router.hpp>
#include <gatehouse/sdk.hpp>
#include <gatehouse/stage.hpp>
#include <gatehouse/store.hpp>
#include <gatehouse/text.hpp>
#include <gatehouse/throttle.hpp>
#include <gatehouse/tls.hpp>
#include <gatehouse/usage_plan.hpp>
#include <gatehouse/version.hpp>
#include <gatehouse/websocket_api.hpp>
