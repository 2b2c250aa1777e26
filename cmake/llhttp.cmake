# llhttp sources for the gatehouse library.
#
# Debian's node-llhttp ships llhttp as C sources (no library to link), so gatehouse compiles
# them into its own static library; consumers never need to find llhttp.
#
# Sets: LLHTTP_INCLUDE_DIR (holds llhttp.h), LLHTTP_SOURCE_DIR (holds api.c http.c llhttp.c),
#       LLHTTP_SOURCES (the three C files), LLHTTP_VERSION.

# Elsewhere: -DGATEHOUSE_LLHTTP_SOURCE=<dir | archive path | archive URL> names llhttp's release
# sources (https://github.com/nodejs/llhttp/releases: the release/vX.Y.Z tag's archive holds
# include/llhttp.h and src/{api,http,llhttp}.c; a directory may hold the four files flat). An
# archive is unpacked with FetchContent; give an URL's hash as
# -DGATEHOUSE_LLHTTP_SOURCE_HASH=SHA256=<hex> to have it checked.
set(GATEHOUSE_LLHTTP_SOURCE "" CACHE STRING
  "llhttp's release sources (a directory, or an archive path or URL) when node-llhttp is absent")
set(GATEHOUSE_LLHTTP_SOURCE_HASH "" CACHE STRING "the hash of GATEHOUSE_LLHTTP_SOURCE's archive")

if(GATEHOUSE_LLHTTP_SOURCE)
  if(IS_DIRECTORY "${GATEHOUSE_LLHTTP_SOURCE}")
    set(_llhttp_root "${GATEHOUSE_LLHTTP_SOURCE}")
  else()
    include(FetchContent)
    set(_llhttp_hash)
    if(GATEHOUSE_LLHTTP_SOURCE_HASH)
      set(_llhttp_hash URL_HASH "${GATEHOUSE_LLHTTP_SOURCE_HASH}")
    endif()
    FetchContent_Declare(gatehouse_llhttp URL "${GATEHOUSE_LLHTTP_SOURCE}" ${_llhttp_hash})
    # Only its sources: llhttp's own CMakeLists.txt is not added.
    FetchContent_GetProperties(gatehouse_llhttp)
    if(NOT gatehouse_llhttp_POPULATED)
      FetchContent_Populate(gatehouse_llhttp)
    endif()
    set(_llhttp_root "${gatehouse_llhttp_SOURCE_DIR}")
  endif()
  find_path(LLHTTP_INCLUDE_DIR NAMES llhttp.h PATHS "${_llhttp_root}/include" "${_llhttp_root}"
    NO_DEFAULT_PATH NO_CACHE)
  find_path(LLHTTP_SOURCE_DIR NAMES llhttp.c api.c http.c PATHS "${_llhttp_root}/src"
    "${_llhttp_root}" NO_DEFAULT_PATH NO_CACHE)
  if(NOT LLHTTP_INCLUDE_DIR OR NOT LLHTTP_SOURCE_DIR)
    message(FATAL_ERROR "GATEHOUSE_LLHTTP_SOURCE=${GATEHOUSE_LLHTTP_SOURCE}: no include/llhttp.h "
      "and src/{api,http,llhttp}.c (nor the four files side by side) in ${_llhttp_root}")
  endif()
  unset(_llhttp_root)
  unset(_llhttp_hash)
else()
  find_path(LLHTTP_INCLUDE_DIR NAMES llhttp.h
    PATHS /usr/share/include/llhttp /usr/include/llhttp /usr/local/include/llhttp
    DOC "directory holding llhttp.h")
  find_path(LLHTTP_SOURCE_DIR NAMES llhttp.c api.c http.c
    PATHS /usr/share/llhttp /usr/local/share/llhttp NO_DEFAULT_PATH
    DOC "directory holding llhttp's api.c http.c llhttp.c")
  if(NOT LLHTTP_INCLUDE_DIR OR NOT LLHTTP_SOURCE_DIR)
    message(FATAL_ERROR "llhttp sources not found (LLHTTP_INCLUDE_DIR=${LLHTTP_INCLUDE_DIR}, "
      "LLHTTP_SOURCE_DIR=${LLHTTP_SOURCE_DIR}): run scripts/install-deps (Debian's node-llhttp), "
      "or give -DGATEHOUSE_LLHTTP_SOURCE=<llhttp release archive or directory>")
  endif()
endif()

set(LLHTTP_SOURCES
  "${LLHTTP_SOURCE_DIR}/api.c"
  "${LLHTTP_SOURCE_DIR}/http.c"
  "${LLHTTP_SOURCE_DIR}/llhttp.c")
foreach(_llhttp_src IN LISTS LLHTTP_SOURCES)
  if(NOT EXISTS "${_llhttp_src}")
    message(FATAL_ERROR "llhttp: ${_llhttp_src} is missing")
  endif()
endforeach()

file(STRINGS "${LLHTTP_INCLUDE_DIR}/llhttp.h" _llhttp_ver REGEX "^#define LLHTTP_VERSION_(MAJOR|MINOR|PATCH) ")
string(REGEX REPLACE ".*MAJOR ([0-9]+).*MINOR ([0-9]+).*PATCH ([0-9]+).*" "\\1.\\2.\\3"
  LLHTTP_VERSION "${_llhttp_ver}")
message(STATUS "llhttp ${LLHTTP_VERSION}: sources in ${LLHTTP_SOURCE_DIR}")
unset(_llhttp_ver)
unset(_llhttp_src)
