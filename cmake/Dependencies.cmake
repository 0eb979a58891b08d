# Every dependency comes from Debian's packages (scripts/install-deps.sh installs them).
find_package(Threads REQUIRED)
find_package(Boost 1.81 REQUIRED CONFIG)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(spdlog REQUIRED)
find_package(CLI11 REQUIRED)
find_package(tomlplusplus REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(Snappy REQUIRED)
find_package(ZLIB REQUIRED)
if(NSQ_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()

# Boost.Asio/Beast are header-only here; one definition set for all targets.
add_library(nsq_boost INTERFACE)
target_link_libraries(nsq_boost INTERFACE Boost::headers Threads::Threads)
target_compile_definitions(nsq_boost INTERFACE BOOST_ASIO_NO_DEPRECATED
  BOOST_ASIO_DISABLE_BOOST_COROUTINE)
