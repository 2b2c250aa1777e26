# package.llhttp-source: gatehouse configures with llhttp's sources from a release archive
# (-DGATEHOUSE_LLHTTP_SOURCE, unpacked by FetchContent and hash-checked) where Debian's
# node-llhttp is absent. The archive is made here from the sources this build uses, laid out as
# llhttp's release archives are (include/llhttp.h, src/{api,http,llhttp}.c).
# Inputs (-D): GATEHOUSE_SOURCE_DIR, WORK_DIR, LLHTTP_INCLUDE_DIR, LLHTTP_SOURCE_DIR, GENERATOR.
cmake_minimum_required(VERSION 3.25)

set(tree "${WORK_DIR}/llhttp-release-v0")
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${tree}/include" "${tree}/src")
file(COPY "${LLHTTP_INCLUDE_DIR}/llhttp.h" DESTINATION "${tree}/include")
file(COPY "${LLHTTP_SOURCE_DIR}/api.c" "${LLHTTP_SOURCE_DIR}/http.c" "${LLHTTP_SOURCE_DIR}/llhttp.c"
     DESTINATION "${tree}/src")
set(archive "${WORK_DIR}/llhttp-release-v0.tar.gz")
execute_process(COMMAND "${CMAKE_COMMAND}" -E tar czf "${archive}" llhttp-release-v0
                WORKING_DIRECTORY "${WORK_DIR}" RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "could not make ${archive}")
endif()
file(SHA256 "${archive}" hash)

# Configures gatehouse alone (no tests, examples or benchmarks) with `source`; returns the output.
function(configure source extra out_var rc_var)
  execute_process(
    COMMAND "${CMAKE_COMMAND}" --fresh -S "${GATEHOUSE_SOURCE_DIR}" -B "${WORK_DIR}/build"
            -G "${GENERATOR}" -DGATEHOUSE_BUILD_TESTS=OFF -DGATEHOUSE_BUILD_EXAMPLES=OFF
            -DGATEHOUSE_BUILD_BENCH=OFF "-DGATEHOUSE_LLHTTP_SOURCE=${source}" ${extra}
    OUTPUT_VARIABLE out ERROR_VARIABLE out RESULT_VARIABLE rc)
  set(${out_var} "${out}" PARENT_SCOPE)
  set(${rc_var} ${rc} PARENT_SCOPE)
endfunction()

configure("${archive}" "-DGATEHOUSE_LLHTTP_SOURCE_HASH=SHA256=${hash}" out rc)
if(NOT rc EQUAL 0 OR NOT out MATCHES "llhttp [0-9]+\\.[0-9]+\\.[0-9]+: sources in [^\n]*gatehouse_llhttp-src/src")
  message(FATAL_ERROR "the archive was not used:\n${out}")
endif()
message(STATUS "archive: OK")

configure("${tree}" "" out rc)
if(NOT rc EQUAL 0 OR NOT out MATCHES "sources in ${tree}/src")
  message(FATAL_ERROR "the directory was not used:\n${out}")
endif()
message(STATUS "directory: OK")

# A wrong hash is refused.
string(REPLACE "0" "1" wrong "${hash}")
configure("${archive}" "-DGATEHOUSE_LLHTTP_SOURCE_HASH=SHA256=${wrong}" out rc)
if(rc EQUAL 0 OR NOT out MATCHES "SHA256 hash of")
  message(FATAL_ERROR "a wrong hash was accepted:\n${out}")
endif()
message(STATUS "wrong hash: refused")
file(REMOVE_RECURSE "${WORK_DIR}")
