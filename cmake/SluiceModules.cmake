# sluice's modules: one library per directory of src/, each naming the modules it may use.
#
#   sluice_module(NAME runtime
#     DEPS core state api
#       graph       # the JobGraph it runs
#     LIBS spdlog::spdlog
#     PUBLIC_HEADERS sluice/foo/ sluice/bar.h)
#
# builds the module's .cc files (the calling directory, not recursive) into the static library
# sluice_<NAME> (or, with EXECUTABLE, the program sluice_<NAME>) linked to the modules in DEPS
# and the CMake targets in LIBS. PUBLIC_HEADERS are the installed headers the module owns,
# relative to include/: a directory ending in "/" or one file (only the check reads them; the
# headers are installed as one tree). A module may include its own headers, those of its DEPS,
# and library headers of its LIBS; nothing else.
#
# tools/check_modules.py reads these calls as written (plain words and # comments only, no
# variables) and fails on an include the module does not declare and on cycles between modules.
# Every module library depends on its target sluice_check_modules, so `cmake --build` stops
# before compiling a module whose includes break the rules. -DSLUICE_CHECK_MODULES=OFF skips it
# (for a build without Python; scripts/test runs the tool anyway).
#
# The library users link, sluice::sluice, is made of the objects of every library module
# (src/CMakeLists.txt): the module libraries are how the build keeps the boundaries, not a
# second installed API.

option(SLUICE_CHECK_MODULES "Check module boundaries and include cycles before compiling" ON)

set_property(GLOBAL PROPERTY SLUICE_LIBRARY_MODULES "")

if(SLUICE_CHECK_MODULES)
  find_package(Python3 3.8 REQUIRED COMPONENTS Interpreter)
  # Re-run when any file a module is made of, or any declaration, changes (a new file
  # re-globs through CONFIGURE_DEPENDS).
  file(GLOB_RECURSE _sluice_module_inputs CONFIGURE_DEPENDS
    ${PROJECT_SOURCE_DIR}/src/*.h ${PROJECT_SOURCE_DIR}/src/*.cc
    ${PROJECT_SOURCE_DIR}/src/*CMakeLists.txt ${PROJECT_SOURCE_DIR}/include/*.h)
  set(_sluice_module_stamp ${PROJECT_BINARY_DIR}/check_modules.stamp)
  add_custom_command(OUTPUT ${_sluice_module_stamp}
    COMMAND Python3::Interpreter ${PROJECT_SOURCE_DIR}/tools/check_modules.py
            --root ${PROJECT_SOURCE_DIR}
    COMMAND ${CMAKE_COMMAND} -E touch ${_sluice_module_stamp}
    DEPENDS ${PROJECT_SOURCE_DIR}/tools/check_modules.py ${_sluice_module_inputs}
    COMMENT "Checking module boundaries and include cycles (tools/check_modules.py)"
    VERBATIM)
  add_custom_target(sluice_check_modules DEPENDS ${_sluice_module_stamp})
endif()

function(sluice_module)
  cmake_parse_arguments(ARG "EXECUTABLE" "NAME" "DEPS;LIBS;PUBLIC_HEADERS" ${ARGN})
  if(ARG_UNPARSED_ARGUMENTS OR NOT ARG_NAME)
    message(FATAL_ERROR "sluice_module(NAME name [EXECUTABLE] [DEPS module...] [LIBS target...] "
                        "[PUBLIC_HEADERS path...]): bad arguments ${ARG_UNPARSED_ARGUMENTS}")
  endif()
  set(target sluice_${ARG_NAME})
  file(GLOB sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cc)
  if(ARG_EXECUTABLE)
    add_executable(${target} ${sources})
  else()
    # Static even for a shared sluice::sluice: its objects go into that one library.
    add_library(${target} STATIC ${sources})
    set_target_properties(${target} PROPERTIES POSITION_INDEPENDENT_CODE ON)
    set_property(GLOBAL APPEND PROPERTY SLUICE_LIBRARY_MODULES ${target})
  endif()
  target_include_directories(${target}
    PUBLIC
      $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
      $<BUILD_INTERFACE:${PROJECT_BINARY_DIR}/include>
      # Internal headers are included as "module/file.h"; tools/check_modules.py decides which.
      $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/src>)
  target_compile_features(${target} PUBLIC cxx_std_20)
  set(deps "")
  foreach(dep IN LISTS ARG_DEPS)
    list(APPEND deps sluice_${dep})
  endforeach()
  # PUBLIC: a module's headers include its dependencies' headers (core/log.h includes spdlog,
  # whose compile definitions must reach every module that logs).
  target_link_libraries(${target} PUBLIC ${deps} ${ARG_LIBS} PRIVATE sluice_warnings)
  if(TARGET sluice_check_modules)
    add_dependencies(${target} sluice_check_modules)
  endif()
endfunction()
