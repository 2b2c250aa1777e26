#pragma once

// AWS's PetStore sample API as C++ "Lambda proxy" handlers over an in-memory store.

#include <gatehouse/gatehouse.hpp>

namespace petstore {

/// The PetStore API: GET /pets, POST /pets (needs an API key), GET /pets/{petId}, and
/// ANY /legacy/{proxy+} to the backend. `key_everywhere`: every route needs an API key.
gatehouse::Router make_api(bool key_everywhere = false);

}  // namespace petstore
