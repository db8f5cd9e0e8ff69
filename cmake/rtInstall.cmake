# Install rules: headers, the layer libraries and an `rt` CMake package so that users
# can `find_package(rt)` and link `rt::rt`.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(rt_install_targets rt_scheduler rt_runtime rt_hub rt)
install(TARGETS ${rt_install_targets} EXPORT rtTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
foreach(dir scheduler/include runtime/include hub/include include)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/${dir}/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
endforeach()
install(EXPORT rtTargets NAMESPACE rt:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/rt)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/rtConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/rtConfig.cmake
                              INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/rt)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/rtConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/rtConfig.cmake ${PROJECT_BINARY_DIR}/rtConfigVersion.cmake
              ${PROJECT_SOURCE_DIR}/cmake/rtDependencies.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/rt)
