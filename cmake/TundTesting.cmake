# Helpers to register tests with the labels and environment CI relies on:
#   ctest -L unit      no privileges, fast
#   ctest -LE root     everything that runs without root
#   ctest -L e2e       network namespaces, needs root and /dev/net/tun

set(TUND_TEST_ENV "")
if(TUND_SANITIZE)
	list(APPEND TUND_TEST_ENV
		"ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1"
		"UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1")
endif()

# tund_add_unit_test(NAME SOURCES... LIBS...)
function(tund_add_unit_test name)
	cmake_parse_arguments(T "" "" "SOURCES;LIBS" ${ARGN})
	add_executable(${name} ${T_SOURCES})
	target_link_libraries(${name} PRIVATE ${T_LIBS} PkgConfig::CMOCKA tund_flags)
	add_test(NAME ${name} COMMAND ${name})
	set_tests_properties(${name} PROPERTIES LABELS unit TIMEOUT 30
		ENVIRONMENT "${TUND_TEST_ENV}")
endfunction()

# tund_add_script_test(NAME SCRIPT LABELS...) for shell tests that need no root
function(tund_add_script_test name script)
	cmake_parse_arguments(T "" "TIMEOUT" "LABELS" ${ARGN})
	if(NOT T_TIMEOUT)
		set(T_TIMEOUT 60)
	endif()
	add_test(NAME ${name} COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/${script})
	set_tests_properties(${name} PROPERTIES LABELS "${T_LABELS}" TIMEOUT ${T_TIMEOUT}
		SKIP_RETURN_CODE 77
		ENVIRONMENT "${TUND_TEST_ENV};TUND=$<TARGET_FILE:tund>;TUNCTL=$<TARGET_FILE:tunctl>;TUND_WG=$<TARGET_FILE:tund-wg>;TUND_SOURCE_DIR=${PROJECT_SOURCE_DIR};TUND_BUILD_DIR=${PROJECT_BINARY_DIR}")
endfunction()

# tund_add_e2e_test(NAME SCRIPT [LABELS extra...] [TIMEOUT s])
function(tund_add_e2e_test name script)
	cmake_parse_arguments(T "" "TIMEOUT" "LABELS" ${ARGN})
	if(NOT T_TIMEOUT)
		set(T_TIMEOUT 300)
	endif()
	tund_add_script_test(${name} ${script} LABELS e2e root ${T_LABELS} TIMEOUT ${T_TIMEOUT})
	# Namespaces and interface names are global: e2e tests never run in parallel.
	set_tests_properties(${name} PROPERTIES RUN_SERIAL TRUE)
endfunction()
