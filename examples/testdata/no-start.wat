;; no-start: a valid WASI module that exports no `_start` (and no "" default
;; export), only a memory and a function named "main". A runtime must refuse
;; to run it with a clear message.
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (func (export "main")
    (call $proc_exit (i32.const 0))))
