# FindHiredis
# -----------
# Finds hiredis (Debian's libhiredis-dev, 0.14). gatehouse uses only its reply reader and its
# command formatting (lib/store/redis/redis_protocol.cpp), linked privately; a consumer of the
# installed static library links it too, so gatehouseConfig.cmake finds it with this module.
#
# Hints (optional): Hiredis_ROOT (a prefix with include/ and lib/), or the exact directories
# Hiredis_INCLUDE_HINTS / Hiredis_LIBRARY_HINTS (gatehouseConfig.cmake sets these to the
# directories gatehouse was built against). pkg-config's `hiredis`, when there, adds its own.
#
# Result variables: Hiredis_FOUND, Hiredis_INCLUDE_DIR (the directory that holds hiredis/),
# Hiredis_LIBRARY, Hiredis_VERSION. Imported target: Hiredis::Hiredis.

set(_hiredis_include_paths ${Hiredis_INCLUDE_HINTS})
set(_hiredis_library_paths ${Hiredis_LIBRARY_HINTS})
if(Hiredis_ROOT)
  list(APPEND _hiredis_include_paths "${Hiredis_ROOT}/include")
  list(APPEND _hiredis_library_paths "${Hiredis_ROOT}/lib" "${Hiredis_ROOT}/lib64")
endif()
find_package(PkgConfig QUIET)
if(PKG_CONFIG_FOUND)
  pkg_check_modules(_hiredis_pc QUIET hiredis)
  # pkg-config names .../include/hiredis; the sources include <hiredis/read.h>.
  foreach(_dir IN LISTS _hiredis_pc_INCLUDE_DIRS)
    get_filename_component(_parent "${_dir}" DIRECTORY)
    list(APPEND _hiredis_include_paths "${_parent}")
  endforeach()
  list(APPEND _hiredis_library_paths ${_hiredis_pc_LIBRARY_DIRS})
endif()

find_path(Hiredis_INCLUDE_DIR NAMES hiredis/read.h hiredis/hiredis.h
  HINTS ${_hiredis_include_paths})
find_library(Hiredis_LIBRARY NAMES hiredis HINTS ${_hiredis_library_paths})
mark_as_advanced(Hiredis_INCLUDE_DIR Hiredis_LIBRARY)

if(Hiredis_INCLUDE_DIR AND EXISTS "${Hiredis_INCLUDE_DIR}/hiredis/hiredis.h")
  file(STRINGS "${Hiredis_INCLUDE_DIR}/hiredis/hiredis.h" _hiredis_version_lines
    REGEX "^#define HIREDIS_(MAJOR|MINOR|PATCH) [0-9]+")
  set(Hiredis_VERSION "")
  foreach(_part MAJOR MINOR PATCH)
    string(REGEX MATCH "HIREDIS_${_part} ([0-9]+)" _ "${_hiredis_version_lines}")
    list(APPEND Hiredis_VERSION "${CMAKE_MATCH_1}")
  endforeach()
  list(JOIN Hiredis_VERSION "." Hiredis_VERSION)
endif()

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(Hiredis
  REQUIRED_VARS Hiredis_LIBRARY Hiredis_INCLUDE_DIR
  VERSION_VAR Hiredis_VERSION)

if(Hiredis_FOUND AND NOT TARGET Hiredis::Hiredis)
  add_library(Hiredis::Hiredis UNKNOWN IMPORTED)
  set_target_properties(Hiredis::Hiredis PROPERTIES
    IMPORTED_LOCATION "${Hiredis_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${Hiredis_INCLUDE_DIR}")
endif()
