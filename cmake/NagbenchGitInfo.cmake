# Bakes the git commit and a dirty flag into every binary, refreshed at each build (not only at configure
# time), so a result always names the code that produced it.
set(NAGBENCH_GIT_INFO_CPP "${CMAKE_BINARY_DIR}/generated/nagbench_git_info.cpp")
add_custom_target(nagbench_git_info
  COMMAND ${CMAKE_COMMAND} -DSOURCE_DIR=${CMAKE_SOURCE_DIR} -DOUTPUT=${NAGBENCH_GIT_INFO_CPP}
          -P ${CMAKE_CURRENT_LIST_DIR}/WriteGitInfo.cmake
  BYPRODUCTS ${NAGBENCH_GIT_INFO_CPP}
  COMMENT "Recording git commit"
  VERBATIM)
# Also at configure time, so the file exists before the first build.
execute_process(COMMAND ${CMAKE_COMMAND} -DSOURCE_DIR=${CMAKE_SOURCE_DIR} -DOUTPUT=${NAGBENCH_GIT_INFO_CPP}
                        -P ${CMAKE_CURRENT_LIST_DIR}/WriteGitInfo.cmake)
