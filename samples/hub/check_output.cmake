# check_output.cmake — runs a sample and checks its output, for CTest.
#   cmake -DPROGRAM=<exe> -DREQUIRE=<regex|regex...> [-DFORBID=<regex|regex...>] -P check_output.cmake
# Every REQUIRE regex must match somewhere in stdout+stderr, no FORBID regex may match, and
# the program must exit 0. Regexes are separated by '|' only at the top level of the
# argument lists below, so they must not contain a bare '|' themselves.
execute_process(COMMAND ${PROGRAM} OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
set(all "${out}${err}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${PROGRAM} exited with ${rc}:\n${all}")
endif()
string(REPLACE "|" ";" require_list "${REQUIRE}")
string(REPLACE "|" ";" forbid_list "${FORBID}")
foreach(re IN LISTS require_list)
  if(NOT all MATCHES "${re}")
    message(FATAL_ERROR "${PROGRAM}: expected output matching '${re}', got:\n${all}")
  endif()
endforeach()
foreach(re IN LISTS forbid_list)
  if(all MATCHES "${re}")
    message(FATAL_ERROR "${PROGRAM}: output must not match '${re}', got:\n${all}")
  endif()
endforeach()
message(STATUS "${PROGRAM}: output checked")
