#pragma once

// What the JavaScript and TypeScript generators share: the client's runtime (written once, with
// its types in comments that the TypeScript SDK turns into annotations and the JavaScript SDK
// drops), JavaScript literals, each operation's description for the runtime, the README and the
// package's name.

#include "sdk/sdk_model.hpp"

#include <string>
#include <string_view>

namespace gatehouse::sdk::js {

/// The runtime every generated client calls: makeInvoker(invokeUrl, region, config) → {call,
/// invokeApi}, SigV4 on WebCrypto, results shaped as axios's, ApiError. `typed`: TypeScript
/// (annotations, the exported types ApigClientConfig, AdditionalParams, ApigResponse …, and
/// `export class ApiError`), else plain JavaScript for a module or a function body.
std::string runtime(bool typed);

/// The runtime's source as written: types in `/*: T */` (an annotation) and `/*:: code */`
/// (TypeScript only) comments. Exposed for the unit test of strip_types.
std::string_view runtime_source();

/// `source` with its type comments as TypeScript (`x /*: T */` → `x: T`, `/*:: code */` → `code`)
/// or, `typed` false, without them (whole lines when a comment fills them).
std::string strip_types(std::string_view source, bool typed);

/// A single-quoted JavaScript string literal of `s` (UTF-8 kept; quotes, backslashes, control
/// characters, U+2028 and U+2029 escaped).
std::string string_literal(std::string_view s);
/// True when `s` is an ASCII JavaScript identifier ([A-Za-z_$][A-Za-z0-9_$]*).
bool is_identifier(std::string_view s);
/// A property name as written in an object literal or interface: bare when an identifier, else
/// a string literal.
std::string property_name(std::string_view s);
/// `object.name`, or `object['name']` when `name` is not an identifier.
std::string member(std::string_view object, std::string_view name);

/// The runtime's view of an operation: { method: 'GET', path: '/pets/{petId}', query: [...],
/// headers: [...], required: [...] }. Required: the path's parameters but a greedy one (it
/// expands to "" when missing, as in AWS's SDK), and the required query and header parameters.
std::string operation_literal(const operation& op);

/// One line for a method's doc comment: "GET /pets/{petId} (path: petId; query: type?, page?)".
std::string summary(const operation& op);

/// npm's package name made from the API's title ("PetStore" → "petstore-sdk") and a semver
/// version from the API's ("1" → "1.0.0"; "1.0.0" when it has none usable).
std::string package_name(const api& a);
std::string package_version(const api& a);

/// The README of the generated folder. `typed`: the TypeScript SDK's (its types, tsc).
std::string readme(const api& a, bool typed);

/// The comment at the top of each generated source file.
std::string banner(const api& a);

}  // namespace gatehouse::sdk::js
