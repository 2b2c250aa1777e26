# package.sdk-cpp: petstore's generated C++ SDK, built in a consumer project against the installed
# gatehouse, calls a running petstore. Run by ctest with cmake -P.
# Inputs (-D): those of common.cmake, plus PETSTORE and SERVE (the example programs).
#   1 install this build tree into WORK_DIR/prefix
#   2 petstore --sdk cpp, and gatehouse-serve --sdk cpp of tricky.json (names that must be
#     escaped; compiled only), into WORK_DIR/sdk
#   3 configure and build the consumer (sdk-cpp/, one source file) with the SDKs on its include
#     path, at -Wall -Wextra -Wpedantic -Werror
#   4 start petstore on a free port, read the port and its IAM user's keys from its banner, run
#     the consumer against it, stop petstore by its pid
cmake_minimum_required(VERSION 3.25)
include("${CMAKE_CURRENT_LIST_DIR}/common.cmake")
foreach(var PETSTORE SERVE)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "sdk_cpp.cmake: -D${var}=... is required")
  endif()
endforeach()

install_gatehouse()

set(sdk_dir "${WORK_DIR}/sdk")
file(REMOVE_RECURSE "${sdk_dir}")
step("${PETSTORE}" --http --sdk cpp --out "${sdk_dir}")
step("${SERVE}" --openapi "${CONSUMER_DIR}/tricky.json" --http
     --sdk cpp --out "${sdk_dir}" --sdk-name tricky_sdk)

step("${CMAKE_COMMAND}" ${configure_args} "-DSDK_DIR=${sdk_dir}")
step("${CMAKE_COMMAND}" --build "${build_dir}" --config "${CONFIG}" --target consumer)

# petstore runs in the background (sh's &) with its output in a file; `timeout` ends it should
# this script be killed before it stops it.
set(api_key "sdkcppconsumerkey0123456789abcdefghij")
set(out "${WORK_DIR}/petstore.out")
file(REMOVE "${out}")
execute_process(
  COMMAND sh -c "timeout 300 \"$0\" --http --listen 127.0.0.1:0 --api-key \"$1\" >\"$2\" 2>&1 </dev/null & echo $!"
          "${PETSTORE}" "${api_key}" "${out}"
  OUTPUT_VARIABLE pid OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE rc)
if(NOT rc EQUAL 0 OR NOT pid MATCHES "^[0-9]+$")
  message(FATAL_ERROR "[${MODE}] petstore did not start")
endif()
message(STATUS "[${MODE}] petstore: pid ${pid}")

# Stops petstore (TERM, then KILL after 10 s) and waits for it to go.
function(stop_petstore)
  execute_process(COMMAND kill ${pid} ERROR_QUIET)
  foreach(i RANGE 100)
    execute_process(COMMAND kill -0 ${pid} RESULT_VARIABLE alive ERROR_QUIET)
    if(NOT alive EQUAL 0)
      return()
    endif()
    execute_process(COMMAND "${CMAKE_COMMAND}" -E sleep 0.1)
  endforeach()
  execute_process(COMMAND kill -KILL ${pid} ERROR_QUIET)
endfunction()

# The banner's last line names the IAM user (up to 60 s: a sanitized petstore starts slowly).
set(banner "")
foreach(i RANGE 600)
  if(EXISTS "${out}")
    file(READ "${out}" banner)
    if(banner MATCHES "admin/stats \\(SigV4, us-east-1\\): ([A-Z0-9]+) ([^ \n]+)\n")
      set(access_key_id "${CMAKE_MATCH_1}")
      set(secret_access_key "${CMAKE_MATCH_2}")
      break()
    endif()
  endif()
  execute_process(COMMAND kill -0 ${pid} RESULT_VARIABLE alive ERROR_QUIET)
  if(NOT alive EQUAL 0)
    break()
  endif()
  execute_process(COMMAND "${CMAKE_COMMAND}" -E sleep 0.1)
endforeach()
if(NOT access_key_id OR NOT banner MATCHES "serving (http://127\\.0\\.0\\.1:[0-9]+/prod)/pets")
  stop_petstore()
  message(FATAL_ERROR "[${MODE}] petstore's banner has no URL or IAM user:\n${banner}")
endif()
set(invoke_url "${CMAKE_MATCH_1}")

message(STATUS "[${MODE}] $ consumer ${invoke_url} ${api_key} ${access_key_id} ...")
execute_process(
  COMMAND "${build_dir}/consumer" "${invoke_url}" "${api_key}" "${access_key_id}"
          "${secret_access_key}"
  RESULT_VARIABLE rc TIMEOUT 60)
stop_petstore()
if(NOT rc EQUAL 0)
  file(READ "${out}" log)
  message(FATAL_ERROR "[${MODE}] the consumer failed (${rc}); petstore's output:\n${log}")
endif()
message(STATUS "[${MODE}] OK")
