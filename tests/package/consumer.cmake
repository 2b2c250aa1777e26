# Builds and runs one consumer project of gatehouse; run by ctest with cmake -P.
# Inputs (-D): MODE (find-package | add-subdirectory), CONSUMER_DIR, WORK_DIR,
# GATEHOUSE_SOURCE_DIR, GATEHOUSE_BINARY_DIR, GATEHOUSE_VERSION, GATEHOUSE_TLS, GATEHOUSE_ASIO,
# GENERATOR, MAKE_PROGRAM, C_COMPILER, CXX_COMPILER, CONFIG.
cmake_minimum_required(VERSION 3.25)
include("${CMAKE_CURRENT_LIST_DIR}/common.cmake")

if(MODE STREQUAL "find-package")
  install_gatehouse()
  foreach(doc LICENSE NOTICE CHANGELOG.md)
    if(NOT EXISTS "${prefix}/share/doc/gatehouse/${doc}")
      message(FATAL_ERROR "[${MODE}] the install lacks share/doc/gatehouse/${doc}")
    endif()
  endforeach()
elseif(MODE STREQUAL "add-subdirectory")
  list(APPEND configure_args "-DGATEHOUSE_SOURCE_DIR=${GATEHOUSE_SOURCE_DIR}")
else()
  message(FATAL_ERROR "consumer.cmake: unknown MODE '${MODE}'")
endif()

step("${CMAKE_COMMAND}" ${configure_args})
step("${CMAKE_COMMAND}" --build "${build_dir}" --config "${CONFIG}" --target consumer -j2)
# The consumer puts its binary at the top of its build dir (for every generator).
step("${build_dir}/consumer")
if(MODE STREQUAL "find-package")
  # And it runs once installed (install(TARGETS consumer)), from its install prefix.
  set(app_prefix "${WORK_DIR}/app")
  file(REMOVE_RECURSE "${app_prefix}")
  step("${CMAKE_COMMAND}" --install "${build_dir}" --prefix "${app_prefix}" --config "${CONFIG}")
  step("${app_prefix}/bin/consumer")
endif()

# Exactly one TLS library, resolved without LD_LIBRARY_PATH (DESIGN.md: never both).
find_program(LDD ldd)
if(LDD)
  execute_process(COMMAND "${LDD}" "${build_dir}/consumer" OUTPUT_VARIABLE libs RESULT_VARIABLE rc)
  message(STATUS "[${MODE}] ldd consumer:\n${libs}")
  if(NOT rc EQUAL 0 OR libs MATCHES "not found")
    message(FATAL_ERROR "[${MODE}] consumer has unresolved shared libraries")
  endif()
  # Only libraries whose symbols are used get linked (--as-needed), so check libssl/libcrypto.
  if(GATEHOUSE_TLS STREQUAL "boringssl")
    if(NOT libs MATCHES "lib(ssl|crypto)\\.so\\.0 => [^\n]*/android/"
       OR libs MATCHES "lib(ssl|crypto)\\.so\\.[1-9]")
      message(FATAL_ERROR "[${MODE}] expected BoringSSL from .../android and no OpenSSL")
    endif()
  else()
    if(NOT libs MATCHES "lib(ssl|crypto)\\.so\\.[1-9]" OR libs MATCHES "/android/")
      message(FATAL_ERROR "[${MODE}] expected OpenSSL and nothing of BoringSSL")
    endif()
  endif()
endif()
# The installed package's version check: what it accepts and refuses.
if(MODE STREQUAL "find-package")
  string(REPLACE "." ";" v "${GATEHOUSE_VERSION}")
  list(GET v 0 major)
  list(GET v 1 minor)
  list(GET v 2 patch)
  math(EXPR next_minor "${minor} + 1")
  math(EXPR next_patch "${patch} + 1")
  set(accepted "${major}.${minor}" "${major}.${minor}.${patch}")
  set(refused "${major}.${next_minor}" "${major}.${minor}.${next_patch}")
  if(major EQUAL 0 AND minor GREATER 0)
    math(EXPR previous_minor "${minor} - 1")
    list(APPEND refused "0.${previous_minor}")  # 0.x does not take 0.y for y < x
  endif()
  foreach(request IN LISTS accepted refused)
    execute_process(
      COMMAND "${CMAKE_COMMAND}" --fresh -S "${GATEHOUSE_SOURCE_DIR}/tests/package/version-check"
              -B "${WORK_DIR}/version-check" -G "${GENERATOR}" "-DREQUEST=${request}"
              "-DCMAKE_PREFIX_PATH=${prefix}" "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}"
      OUTPUT_VARIABLE out ERROR_VARIABLE out RESULT_VARIABLE rc)
    if(request IN_LIST accepted)
      set(expected "accepted")
    else()
      set(expected "refused")
    endif()
    if(NOT rc EQUAL 0 OR NOT out MATCHES "version-check: ${request} ${expected}")
      message(FATAL_ERROR "[${MODE}] asking for gatehouse ${request} should be ${expected}:\n${out}")
    endif()
    message(STATUS "[${MODE}] gatehouse ${request}: ${expected}")
  endforeach()
endif()
message(STATUS "[${MODE}] OK")
