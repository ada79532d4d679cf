;; spin: prints "spinning\n", then loops forever without calling the host.
;; For CPU/wall-time limits: never exits on its own.
(module
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  ;; iovec {buf = 16, len = 9} at 0, the text at 16, nwritten at 8.
  (data (i32.const 0) "\10\00\00\00\09\00\00\00")
  (data (i32.const 16) "spinning\n")
  (func (export "_start")
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
    (loop $forever
      (br $forever))))
