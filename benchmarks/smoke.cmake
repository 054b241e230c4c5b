# cmake -DBENCH=... -DOUT=... -DCHECK=... -P smoke.cmake : runs the small sizes of every benchmark, then checks the
# JSON for errors (Google Benchmark exits 0 even when a benchmark called SkipWithError).
file(REMOVE ${OUT})
execute_process(COMMAND ${BENCH} --benchmark_filter=/2\\^1[02]/|roof/ --benchmark_min_time=0.01
                        --benchmark_out=${OUT} --benchmark_out_format=json --nagbench_max_log2=12
                        --nagbench_host_max_log2=12
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "nagbench_bench exited with ${rc}")
endif()
find_program(PY NAMES python3 PATHS /usr/bin NO_DEFAULT_PATH)
if(NOT PY)
  find_program(PY python3)
endif()
execute_process(COMMAND ${PY} ${CHECK} ${OUT} --expect 10 RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "benchmark errors (see above)")
endif()
