# llhttp sources for the gatehouse library.
#
# Debian's node-llhttp ships llhttp as C sources (no library to link), so gatehouse compiles
# them into its own static library; consumers never need to find llhttp.
#
# Sets: LLHTTP_INCLUDE_DIR (holds llhttp.h), LLHTTP_SOURCE_DIR (holds api.c http.c llhttp.c),
#       LLHTTP_SOURCES (the three C files), LLHTTP_VERSION.

find_path(LLHTTP_INCLUDE_DIR NAMES llhttp.h
  PATHS /usr/share/include/llhttp /usr/include/llhttp /usr/local/include/llhttp
  DOC "directory holding llhttp.h")
find_path(LLHTTP_SOURCE_DIR NAMES llhttp.c api.c http.c
  PATHS /usr/share/llhttp /usr/local/share/llhttp NO_DEFAULT_PATH
  DOC "directory holding llhttp's api.c http.c llhttp.c")

if(NOT LLHTTP_INCLUDE_DIR OR NOT LLHTTP_SOURCE_DIR)
  message(FATAL_ERROR "llhttp sources not found (LLHTTP_INCLUDE_DIR=${LLHTTP_INCLUDE_DIR}, "
    "LLHTTP_SOURCE_DIR=${LLHTTP_SOURCE_DIR}); run scripts/install-deps (package node-llhttp)")
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
