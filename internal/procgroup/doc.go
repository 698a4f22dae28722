// Package procgroup runs a command in a process group of its own and kills
// the whole group, so that what a program started (a compiler's children, a
// function's helpers) ends with it. Windows has no process groups a kill
// reaches: there only the process itself is killed.
package procgroup
