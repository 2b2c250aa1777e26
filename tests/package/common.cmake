# What the package tests' drivers (consumer.cmake, sdk_cpp.cmake; cmake -P) share: their common
# inputs, a step runner, the configure arguments of a consumer project and the installed package.
# Inputs (-D): MODE (names the test in the log), CONSUMER_DIR, WORK_DIR, GATEHOUSE_SOURCE_DIR,
# GATEHOUSE_BINARY_DIR, GATEHOUSE_VERSION, GATEHOUSE_TLS, GATEHOUSE_ASIO, GENERATOR, MAKE_PROGRAM, C_COMPILER,
# CXX_COMPILER, CONFIG.
cmake_minimum_required(VERSION 3.25)

foreach(var MODE CONSUMER_DIR WORK_DIR GATEHOUSE_SOURCE_DIR GATEHOUSE_BINARY_DIR
            GATEHOUSE_VERSION GATEHOUSE_TLS GENERATOR CXX_COMPILER)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "${CMAKE_SCRIPT_MODE_FILE}: -D${var}=... is required")
  endif()
endforeach()
if(NOT CONFIG)
  set(CONFIG Release)
endif()
if(NOT GATEHOUSE_ASIO)
  set(GATEHOUSE_ASIO standalone)
endif()

# Runs a command, echoing it; any failure ends the test.
function(step)
  list(JOIN ARGN " " command_line)
  message(STATUS "[${MODE}] $ ${command_line}")
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "[${MODE}] step failed (${rc}): ${command_line}")
  endif()
endfunction()

# The consumer project is configured into build_dir with configure_args.
set(build_dir "${WORK_DIR}/build")
set(configure_args
  --fresh -S "${CONSUMER_DIR}" -B "${build_dir}" -G "${GENERATOR}"
  "-DCMAKE_BUILD_TYPE=${CONFIG}"
  "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}"
  "-DGATEHOUSE_TLS=${GATEHOUSE_TLS}"
  "-DGATEHOUSE_ASIO=${GATEHOUSE_ASIO}"
  "-DEXPECTED_VERSION=${GATEHOUSE_VERSION}")
if(C_COMPILER)
  list(APPEND configure_args "-DCMAKE_C_COMPILER=${C_COMPILER}")
endif()
if(MAKE_PROGRAM)
  list(APPEND configure_args "-DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM}")
endif()

# Installs this build tree into a fresh WORK_DIR/prefix (`prefix`), where the consumer finds
# the package.
function(install_gatehouse)
  set(prefix "${WORK_DIR}/prefix")
  file(REMOVE_RECURSE "${prefix}")
  step("${CMAKE_COMMAND}" --install "${GATEHOUSE_BINARY_DIR}" --prefix "${prefix}" --config "${CONFIG}")
  set(configure_args ${configure_args} "-DCMAKE_PREFIX_PATH=${prefix}" PARENT_SCOPE)
  set(prefix "${prefix}" PARENT_SCOPE)
endfunction()
