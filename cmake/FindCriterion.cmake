# FindCriterion: the Criterion unit-test framework.
#
# Provides Criterion::Criterion (imported target) and Criterion_FOUND,
# Criterion_VERSION. Uses pkg-config when available, plain find_* otherwise.
find_package(PkgConfig QUIET)
if(PKG_CONFIG_FOUND)
  pkg_check_modules(PC_Criterion QUIET criterion)
endif()

find_path(Criterion_INCLUDE_DIR criterion/criterion.h
  HINTS ${PC_Criterion_INCLUDEDIR} ${PC_Criterion_INCLUDE_DIRS})
find_library(Criterion_LIBRARY NAMES criterion
  HINTS ${PC_Criterion_LIBDIR} ${PC_Criterion_LIBRARY_DIRS})
set(Criterion_VERSION "${PC_Criterion_VERSION}")

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(Criterion
  REQUIRED_VARS Criterion_LIBRARY Criterion_INCLUDE_DIR
  VERSION_VAR Criterion_VERSION)

if(Criterion_FOUND AND NOT TARGET Criterion::Criterion)
  add_library(Criterion::Criterion UNKNOWN IMPORTED)
  set_target_properties(Criterion::Criterion PROPERTIES
    IMPORTED_LOCATION "${Criterion_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${Criterion_INCLUDE_DIR}")
  if(PC_Criterion_CFLAGS_OTHER)
    set_property(TARGET Criterion::Criterion PROPERTY
      INTERFACE_COMPILE_OPTIONS ${PC_Criterion_CFLAGS_OTHER})
  endif()
endif()
mark_as_advanced(Criterion_INCLUDE_DIR Criterion_LIBRARY)
