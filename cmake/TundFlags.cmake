# Interface targets that carry compile and link options; every target of
# ours links them, nothing touches the global CMAKE_C_FLAGS.

add_library(tund_warnings INTERFACE)
target_compile_options(tund_warnings INTERFACE
	-Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes
	-Wformat=2 -Wvla -Wwrite-strings -Wimplicit-fallthrough -Wundef)
if(TUND_WERROR)
	target_compile_options(tund_warnings INTERFACE -Werror)
endif()
target_compile_definitions(tund_warnings INTERFACE _GNU_SOURCE
	TUND_VERSION="${PROJECT_VERSION}")

add_library(tund_hardening INTERFACE)
if(TUND_HARDEN)
	target_compile_options(tund_hardening INTERFACE
		-fstack-protector-strong -fstack-clash-protection
		$<$<NOT:$<CONFIG:Debug>>:-U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=2>)
	if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64|i.86")
		target_compile_options(tund_hardening INTERFACE -fcf-protection)
	endif()
	target_link_options(tund_hardening INTERFACE
		-Wl,-z,relro -Wl,-z,now -Wl,-z,noexecstack)
endif()

add_library(tund_sanitize INTERFACE)
if(TUND_SANITIZE)
	target_compile_options(tund_sanitize INTERFACE
		-fsanitize=${TUND_SANITIZE} -fno-sanitize-recover=all -fno-omit-frame-pointer)
	target_link_options(tund_sanitize INTERFACE -fsanitize=${TUND_SANITIZE})
endif()

if(TUND_FUZZ AND NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
	message(FATAL_ERROR "TUND_FUZZ needs clang (CC=clang)")
endif()
if(TUND_FUZZ)
	# Coverage feedback from the libraries too, not only from the harness.
	target_compile_options(tund_sanitize INTERFACE -fsanitize=fuzzer-no-link)
endif()

# One target to link for all of the above.
add_library(tund_flags INTERFACE)
target_link_libraries(tund_flags INTERFACE tund_warnings tund_hardening tund_sanitize)
