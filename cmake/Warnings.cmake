# Compiler flags shared by every target: strict warnings (errors by default) and the optional
# sanitizer instrumentation selected with -DNSQ_SANITIZE=...
add_library(nsq_warnings INTERFACE)
target_compile_options(nsq_warnings INTERFACE -Wall -Wextra -Wpedantic -Wshadow
  -Wnon-virtual-dtor -Wcast-align -Woverloaded-virtual -Wimplicit-fallthrough)
if(NSQ_WERROR)
  target_compile_options(nsq_warnings INTERFACE -Werror)
endif()

if(NSQ_SANITIZE)
  add_compile_options(-fsanitize=${NSQ_SANITIZE} -fno-omit-frame-pointer)
  add_link_options(-fsanitize=${NSQ_SANITIZE})
  if(NSQ_SANITIZE MATCHES "thread")
    # Boost.Asio uses std::atomic_thread_fence, which GCC warns TSan cannot model; the fences
    # sit next to ordinary atomics that TSan does see.
    add_compile_options(-Wno-tsan)
  endif()
  if(NSQ_SANITIZE MATCHES "undefined")
    add_compile_options(-fno-sanitize-recover=undefined)
  endif()
endif()
