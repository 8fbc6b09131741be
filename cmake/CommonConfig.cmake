# Compile settings shared by every target of ours (one place, as qBittorrent's CommonConfig).
add_library(meterdesk_common INTERFACE)
target_compile_definitions(meterdesk_common INTERFACE
    QT_NO_CAST_FROM_ASCII
    QT_NO_CONTEXTLESS_CONNECT
    QT_NO_NARROWING_CONVERSIONS_IN_CONNECT
    QT_NO_URL_CAST_FROM_STRING
    QT_USE_QSTRINGBUILDER
    MDK_VERSION="${PROJECT_VERSION}")
target_compile_options(meterdesk_common INTERFACE -Wall -Wextra)
if(MDK_WERROR)
    target_compile_options(meterdesk_common INTERFACE -Werror)
endif()
