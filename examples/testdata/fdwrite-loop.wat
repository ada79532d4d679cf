;; fdwrite-loop: calls fd_write(1, 16 bytes) N times, for measuring the cost of
;; one host call. N is argv[1] (decimal; default 1000000 when absent or not a
;; number). Each loop iteration is exactly one fd_write and nothing else of
;; note. Exit status 0, or proc_exit(1) on the first fd_write error.
;; Expected output: N lines "0123456789abcde\n" (send it to a null file).
(module
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_sizes_get"
    (func $args_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get"
    (func $args_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))

  ;; Memory layout (one 64 KiB page):
  ;;   0..16      the message
  ;;   16..24     iovec {buf = 0, len = 16}
  ;;   24..28     nwritten
  ;;   32..40     argc, argv_buf_size
  ;;   64..1024   argv pointers (room for 240)
  ;;   1024..     argv strings (room for 64512 bytes)
  (memory (export "memory") 1)
  (data (i32.const 0) "0123456789abcde\n")
  (data (i32.const 16) "\00\00\00\00\10\00\00\00")

  (global $default_count i32 (i32.const 1000000))

  ;; argv[1] parsed as a decimal number, or the default.
  (func $count (result i32)
    (local $p i32) (local $c i32) (local $n i32)
    (if (call $args_sizes_get (i32.const 32) (i32.const 36))
      (then (return (global.get $default_count))))
    (if (i32.or
          (i32.lt_u (i32.load (i32.const 32)) (i32.const 2))
          (i32.or
            (i32.gt_u (i32.load (i32.const 32)) (i32.const 240))
            (i32.gt_u (i32.load (i32.const 36)) (i32.const 64512))))
      (then (return (global.get $default_count))))
    (if (call $args_get (i32.const 64) (i32.const 1024))
      (then (return (global.get $default_count))))
    (local.set $p (i32.load (i32.const 68)))  ;; argv[1]
    (if (i32.eqz (i32.load8_u (local.get $p)))
      (then (return (global.get $default_count))))
    (block $end
      (loop $digit
        (local.set $c (i32.load8_u (local.get $p)))
        (br_if $end (i32.eqz (local.get $c)))
        (local.set $c (i32.sub (local.get $c) (i32.const 48)))
        (if (i32.gt_u (local.get $c) (i32.const 9))
          (then (return (global.get $default_count))))
        (local.set $n
          (i32.add (i32.mul (local.get $n) (i32.const 10)) (local.get $c)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $digit)))
    (local.get $n))

  (func (export "_start")
    (local $left i32)
    (local.set $left (call $count))
    (block $done
      (loop $again
        (br_if $done (i32.eqz (local.get $left)))
        (if (call $fd_write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 24))
          (then (call $proc_exit (i32.const 1))))
        (local.set $left (i32.sub (local.get $left) (i32.const 1)))
        (br $again)))))
