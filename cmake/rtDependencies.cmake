# Finds rt's dependencies, all from Debian packages (README "Dependencies").
# Shared by the build tree and by rtConfig.cmake after install.
find_package(Threads REQUIRED)
find_package(Boost 1.74 REQUIRED COMPONENTS fiber context)
find_package(spdlog REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(CURL REQUIRED)
find_path(RT_CONCURRENTQUEUE_DIR concurrentqueue/concurrentqueue.h REQUIRED
          DOC "moodycamel ConcurrentQueue (Debian: libconcurrentqueue-dev)")
