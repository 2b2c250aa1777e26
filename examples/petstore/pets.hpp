#pragma once

// AWS's PetStore sample API as C++ "Lambda proxy" handlers over an in-memory store.

#include <gatehouse/gatehouse.hpp>

namespace petstore {

/// The PetStore API: GET /pets, POST /pets, GET /pets/{petId}.
gatehouse::Router make_api();

}  // namespace petstore
