"""``cowspec kernel-run``: the kernel model's scenarios, executed on the live kernel.

Each scenario of the kernel model has a binding here: the same steps as system calls
(private anonymous memory, fork, vmsplice, io_uring fixed buffers, gup_test pins,
MADV_PAGEOUT, mprotect, clear_refs), and the observation that decides whether the
property the model checks (Isolation, PinCoherent) held on this kernel. The runner
compares that with what the newest kernel model (linux-5.19) predicts.
"""
