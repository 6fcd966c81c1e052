# cmake -P script: install, configure the consumer against the install, build it, run it.
file(REMOVE_RECURSE ${WORK_DIR})
set(prefix ${WORK_DIR}/prefix)

function(run)
  execute_process(COMMAND ${ARGV} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGV}\n${out}\n${err}")
  endif()
  set(last_output "${out}" PARENT_SCOPE)
endfunction()

run(${CMAKE_COMMAND} --install ${SLUICE_BINARY_DIR} --prefix ${prefix})
foreach(f include/sluice/sluice.h include/sluice/status.h include/sluice/version.h
          lib/cmake/sluice/sluiceConfig.cmake lib/cmake/sluice/sluiceTargets.cmake)
  if(NOT EXISTS ${prefix}/${f})
    message(FATAL_ERROR "install did not produce ${f}")
  endif()
endforeach()
if(EXISTS ${prefix}/include/sluice/../../src OR EXISTS ${prefix}/include/core)
  message(FATAL_ERROR "internal headers were installed")
endif()

run(${CMAKE_COMMAND} -S ${CONSUMER_SOURCE_DIR} -B ${WORK_DIR}/build -G ${GENERATOR}
    -DCMAKE_PREFIX_PATH=${prefix})
run(${CMAKE_COMMAND} --build ${WORK_DIR}/build)
run(${WORK_DIR}/build/consumer)
if(NOT last_output MATCHES "sluice [0-9]+\\.[0-9]+\\.[0-9]+ with librdkafka [0-9.]+: job ok")
  message(FATAL_ERROR "consumer printed: ${last_output}")
endif()
message(STATUS "consumer: ${last_output}")
