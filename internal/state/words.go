package state

import "strings"

func joinOr(ss []string) string { return strings.Join(ss, " or ") }

func joinComma(ss []string) string { return strings.Join(ss, ", ") }
