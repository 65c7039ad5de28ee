# Fails when any C++ file of the project differs from what clang-format (.clang-format) makes.
file(GLOB_RECURSE files
  "${SOURCE_DIR}/base/*.h" "${SOURCE_DIR}/base/*.cpp"
  "${SOURCE_DIR}/forecasting/*.h" "${SOURCE_DIR}/forecasting/*.cpp"
  "${SOURCE_DIR}/policies/*.h" "${SOURCE_DIR}/policies/*.cpp"
  "${SOURCE_DIR}/rollouts/*.h" "${SOURCE_DIR}/rollouts/*.cpp"
  "${SOURCE_DIR}/simulator/*.h" "${SOURCE_DIR}/simulator/*.cpp"
  "${SOURCE_DIR}/controller/*.h" "${SOURCE_DIR}/controller/*.cpp"
  "${SOURCE_DIR}/cli/*.h" "${SOURCE_DIR}/cli/*.cpp"
  "${SOURCE_DIR}/tests/*.h" "${SOURCE_DIR}/tests/*.cpp"
  "${SOURCE_DIR}/bench/*.h" "${SOURCE_DIR}/bench/*.cpp")
execute_process(COMMAND ${CLANG_FORMAT} --dry-run --Werror ${files}
  RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "clang-format would change these files (run `make format`):\n${err}")
endif()
