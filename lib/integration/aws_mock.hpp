#pragma once

// Two integrations that imported APIs need and C++ composition does not: AWS's MOCK, whose
// status the request template chooses, and a method that cannot be called (no integration,
// or a Lambda function nobody bound), which answers as AWS answers a misconfigured method.

#include <gatehouse/integration.hpp>

#include <string>

namespace gatehouse::detail {

/// AWS's MOCK integration: the status is the `statusCode` (an integer) of the integration
/// request's body, which a request template writes ({"statusCode": 200}); with no body (no
/// template) 200. The body is empty: integration responses make the method response. A body
/// without an integer statusCode → 500 {"message": "Internal server error"}
/// (API_CONFIGURATION_ERROR), as in AWS.
integration aws_mock();

/// An integration that answers every request with 500 {"message": "Internal server error"}
/// (API_CONFIGURATION_ERROR); `why` goes to the log.
integration misconfigured(std::string why);

}  // namespace gatehouse::detail
