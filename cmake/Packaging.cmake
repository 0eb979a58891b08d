# `cmake --install` and CPack: the three daemons in bin/, systemd units in lib/systemd/system/,
# the example configs (the reference's keys) in share/doc/nsq-cpp/examples/. `cpack` in a build
# tree makes a .deb (the test command installs it in a scratch root and starts its nsqd).
include(GNUInstallDirs)

install(TARGETS nsqd nsqlookupd nsqadmin RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES contrib/nsqd.cfg.example contrib/nsqlookupd.cfg.example
              contrib/nsqadmin.cfg.example
        DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/nsq-cpp/examples)
install(FILES contrib/systemd/nsqd.service contrib/systemd/nsqlookupd.service
              contrib/systemd/nsqadmin.service
        DESTINATION lib/systemd/system)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME nsq-cpp)
set(CPACK_PACKAGE_VENDOR "nsq-cpp")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "NSQ message queue daemons (nsqd, nsqlookupd, nsqadmin), drop-in compatible with NSQ ${NSQ_COMPAT_VERSION}")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "nsq-cpp developers <nsq-cpp@localhost>")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
# The shared libraries the binaries link (Boost is header-only here; spdlog, fmt, OpenSSL,
# snappy, zlib are not), found by dpkg-shlibdeps.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# Debian's own nsq package installs the same /usr/bin names.
set(CPACK_DEBIAN_PACKAGE_CONFLICTS nsq)
set(CPACK_STRIP_FILES ON)
include(CPack)
