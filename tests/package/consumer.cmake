# Builds and runs one consumer project of gatehouse; run by ctest with cmake -P.
# Inputs (-D): MODE (find-package | add-subdirectory), CONSUMER_DIR, WORK_DIR,
# GATEHOUSE_SOURCE_DIR, GATEHOUSE_BINARY_DIR, GATEHOUSE_VERSION, GATEHOUSE_TLS,
# GENERATOR, MAKE_PROGRAM, C_COMPILER, CXX_COMPILER, CONFIG.
cmake_minimum_required(VERSION 3.25)
include("${CMAKE_CURRENT_LIST_DIR}/common.cmake")

if(MODE STREQUAL "find-package")
  install_gatehouse()
elseif(MODE STREQUAL "add-subdirectory")
  list(APPEND configure_args "-DGATEHOUSE_SOURCE_DIR=${GATEHOUSE_SOURCE_DIR}")
else()
  message(FATAL_ERROR "consumer.cmake: unknown MODE '${MODE}'")
endif()

step("${CMAKE_COMMAND}" ${configure_args})
step("${CMAKE_COMMAND}" --build "${build_dir}" --config "${CONFIG}" --target consumer -j2)
# The consumer puts its binary at the top of its build dir (for every generator).
step("${build_dir}/consumer")

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
message(STATUS "[${MODE}] OK")
