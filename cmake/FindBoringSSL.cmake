# FindBoringSSL
# -------------
# Finds BoringSSL as packaged by Debian's android-libboringssl-dev: headers in
# /usr/include/android, shared libs in /usr/lib/<multiarch>/android.
#
# Every search uses NO_DEFAULT_PATH: the default search finds OpenSSL, whose headers and
# libs share BoringSSL's names, and mixing the two fails silently at run time.
#
# Hints (optional): BoringSSL_ROOT (a prefix with include/ and lib/), or the exact
# directories BoringSSL_INCLUDE_HINTS / BoringSSL_LIBRARY_HINTS (gatehouseConfig.cmake
# sets these to the directories gatehouse was built against).
#
# Result variables: BoringSSL_FOUND, BoringSSL_INCLUDE_DIR, BoringSSL_LIBRARY_DIR,
# BoringSSL_SSL_LIBRARY, BoringSSL_CRYPTO_LIBRARY, BoringSSL_API_VERSION.
# Imported targets: BoringSSL::Crypto, BoringSSL::SSL (links BoringSSL::Crypto); programs that
# link them get BoringSSL's library directory as a run path, installed programs too.

set(_boringssl_include_paths ${BoringSSL_INCLUDE_HINTS})
set(_boringssl_library_paths ${BoringSSL_LIBRARY_HINTS})
if(BoringSSL_ROOT)
  list(APPEND _boringssl_include_paths "${BoringSSL_ROOT}/include")
  list(APPEND _boringssl_library_paths "${BoringSSL_ROOT}/lib" "${BoringSSL_ROOT}/lib64")
endif()
list(APPEND _boringssl_include_paths /usr/include/android)
if(CMAKE_LIBRARY_ARCHITECTURE)
  list(APPEND _boringssl_library_paths "/usr/lib/${CMAKE_LIBRARY_ARCHITECTURE}/android")
endif()
list(APPEND _boringssl_library_paths /usr/lib/android)

find_path(BoringSSL_INCLUDE_DIR NAMES openssl/base.h
  PATHS ${_boringssl_include_paths} NO_DEFAULT_PATH)

# openssl/base.h alone is not proof: only BoringSSL's defines OPENSSL_IS_BORINGSSL.
if(BoringSSL_INCLUDE_DIR)
  file(STRINGS "${BoringSSL_INCLUDE_DIR}/openssl/base.h" _boringssl_marker
    REGEX "^#[ \t]*define[ \t]+OPENSSL_IS_BORINGSSL")
  if(NOT _boringssl_marker)
    message(STATUS "FindBoringSSL: ${BoringSSL_INCLUDE_DIR}/openssl/base.h is not BoringSSL's")
    set(BoringSSL_INCLUDE_DIR "BoringSSL_INCLUDE_DIR-NOTFOUND" CACHE PATH "" FORCE)
  else()
    file(STRINGS "${BoringSSL_INCLUDE_DIR}/openssl/base.h" _boringssl_api
      REGEX "^#[ \t]*define[ \t]+BORINGSSL_API_VERSION[ \t]+[0-9]+")
    string(REGEX REPLACE ".*BORINGSSL_API_VERSION[ \t]+([0-9]+).*" "\\1"
      BoringSSL_API_VERSION "${_boringssl_api}")
  endif()
endif()

find_library(BoringSSL_SSL_LIBRARY NAMES ssl
  PATHS ${_boringssl_library_paths} NO_DEFAULT_PATH)
find_library(BoringSSL_CRYPTO_LIBRARY NAMES crypto
  PATHS ${_boringssl_library_paths} NO_DEFAULT_PATH)
mark_as_advanced(BoringSSL_INCLUDE_DIR BoringSSL_SSL_LIBRARY BoringSSL_CRYPTO_LIBRARY)

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(BoringSSL
  REQUIRED_VARS BoringSSL_SSL_LIBRARY BoringSSL_CRYPTO_LIBRARY BoringSSL_INCLUDE_DIR)

if(BoringSSL_FOUND)
  get_filename_component(BoringSSL_LIBRARY_DIR "${BoringSSL_SSL_LIBRARY}" DIRECTORY)
  if(NOT TARGET BoringSSL::Crypto)
    add_library(BoringSSL::Crypto UNKNOWN IMPORTED)
    set_target_properties(BoringSSL::Crypto PROPERTIES
      IMPORTED_LOCATION "${BoringSSL_CRYPTO_LIBRARY}"
      INTERFACE_INCLUDE_DIRECTORIES "${BoringSSL_INCLUDE_DIR}")
    # Debian's BoringSSL lives outside the loader's search path: CMake's build-tree RPATH finds
    # it, but installed programs lose that RPATH. A run path given as a link option stays in
    # them (CMake rewrites only its own entries at install).
    if(NOT BoringSSL_LIBRARY_DIR IN_LIST CMAKE_C_IMPLICIT_LINK_DIRECTORIES AND
       NOT BoringSSL_LIBRARY_DIR IN_LIST CMAKE_CXX_IMPLICIT_LINK_DIRECTORIES)
      set_property(TARGET BoringSSL::Crypto APPEND PROPERTY
        INTERFACE_LINK_OPTIONS "LINKER:-rpath,${BoringSSL_LIBRARY_DIR}")
    endif()
  endif()
  if(NOT TARGET BoringSSL::SSL)
    add_library(BoringSSL::SSL UNKNOWN IMPORTED)
    set_target_properties(BoringSSL::SSL PROPERTIES
      IMPORTED_LOCATION "${BoringSSL_SSL_LIBRARY}"
      INTERFACE_INCLUDE_DIRECTORIES "${BoringSSL_INCLUDE_DIR}"
      INTERFACE_LINK_LIBRARIES BoringSSL::Crypto)
  endif()
endif()

unset(_boringssl_include_paths)
unset(_boringssl_library_paths)
unset(_boringssl_marker)
unset(_boringssl_api)
