from benchmarks.arm64_shared_weights import fully_connected_families, kept_share, memory_bytes


def _cell(unique, heap, packed, resident):
    return {"unique_weight_bytes": unique, "heap_growth_bytes": {"after_run": heap},
            "weight_cache_bytes": packed, "file_resident_bytes": resident}


def test_kept_share_is_the_memory_saved_over_the_weight_bytes_saved():
    cells = {("paper", "baseline", "dynamic", "cortex-a76", "cache"): _cell(1000, 300, 1100, 50),
             ("paper", "rt", "dynamic", "cortex-a76", "cache"): _cell(400, 350, 500, 40)}
    assert memory_bytes(cells["paper", "rt", "dynamic", "cortex-a76", "cache"]) == 350 + 500 + 40
    # baseline 1450, rt 890: 560 of the 600 weight bytes saved stay saved
    assert kept_share(cells, "paper", "rt", "dynamic", "cortex-a76", "cache") == 560 / 600
    assert kept_share(cells, "paper", "rt", "dynamic", "cortex-a76", "plain") is None  # not measured
    plain = _cell(1000, 2000, None, 1000)
    assert memory_bytes(plain) == 3000  # the Interpreter: no cache file


def test_only_the_integer_gemms_name_the_fully_connected_kernels():
    kernels = {"xnn_qs8_qc8w_gemm_minmax_fp32_ukernel_4x16c4__asm_aarch64_neondot_ld128": 3,
               "xnn_f32_gemm_minmax_ukernel_6x8__asm_aarch64_neonfma_cortex_a75_prfm": 2,
               "xnn_qs8_packw_gemm_goi_ukernel_x16c4__scalar": 1,
               "xnn_qs8_qc8w_igemm_minmax_fp32_ukernel_4x16c4__asm_aarch64_neondot_ld128": 4,  # the convolutions'

               "xnn_qp8_f32_qc4w_gemm_minmax_ukernel_16x4c8s2__aarch64_neondot_mstep4": 1}
    assert fully_connected_families(kernels) == [
        "qp8_f32_qc4w_gemm 16x4c8s2 aarch64_neondot_mstep4",
        "qs8_qc8w_gemm_minmax_fp32 4x16c4 asm_aarch64_neondot_ld128"]
