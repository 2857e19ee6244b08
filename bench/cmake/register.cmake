# Used by bench/run.sh only while the top-level CMakeLists.txt does not register bench/ yet:
# passed as -DCMAKE_PROJECT_tollgate_INCLUDE=<this file>, it adds bench/ right after
# project(tollgate). Target names in target_link_libraries resolve at generate time, so the
# library targets the top-level file defines afterwards link fine. Once the top-level has
# `if(TOLLGATE_BENCH) add_subdirectory(bench) endif()`, run.sh passes -DTOLLGATE_BENCH=ON instead.
add_subdirectory(${CMAKE_CURRENT_LIST_DIR}/.. ${CMAKE_BINARY_DIR}/bench)
