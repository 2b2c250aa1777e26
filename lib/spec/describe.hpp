#pragma once

// The API model as AWS's management API answers for it (GetRestApi, GetResources, GetMethod,
// GetAuthorizers, GetModels), field for field: what tests compare with AWS's recorded answers,
// and what a management endpoint can serve.

#include "spec/model.hpp"

#include <string>

namespace gatehouse::spec {

/// An AWS-shaped id (ten lower-case letters and digits), the same for the same seed.
std::string stable_id(std::string_view seed);

/// A resource's id: stable, AWS-shaped (ten lower-case letters and digits).
std::string resource_id(const rest_api_model& api, const resource_model& r);

std::string describe_rest_api(const rest_api_model& api);
/// {"items": [{id, parentId, path, pathPart, resourceMethods: {"GET": {}}}, …]}
std::string describe_resources(const rest_api_model& api);
/// GetMethod: the method with its methodIntegration and methodResponses.
std::string describe_method(const rest_api_model& api, const resource_model& r,
                            const method_model& m);
/// {"items": [{id, name, type, authType, authorizerUri, identitySource, …}]}
std::string describe_authorizers(const rest_api_model& api);
/// {"items": [{id, name, contentType, schema}]}
std::string describe_models(const rest_api_model& api);

}  // namespace gatehouse::spec
