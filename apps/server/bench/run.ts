/**
 * `pnpm bench [filter...]`: runs every benchmark (or those whose name contains a filter), one after
 * another, each printing its own figures. To add one, write bench/<name>.ts exporting a Benchmark
 * and list it below. Exit code: 0 when every benchmark ran (a missed goal is printed, not failed),
 * 1 when one failed (errors, lost writes), 2 when the filter matches nothing.
 *
 * BENCH_CPU_PROF=<dir> writes a .cpuprofile per server under test (see bench/target.ts).
 */
import { availableParallelism, cpus } from 'node:os';
import type { Benchmark } from './types';
import { abuseBenchmark } from './abuse';
import { campaignBenchmark } from './campaign';
import { latencyBenchmark } from './latency';
import { outboxBenchmark } from './outbox';
import { erasureBenchmark } from './erasure';
import { ftsBenchmark } from './fts';
import { secureDeleteBenchmark } from './secure-delete';
import { soakBenchmark } from './soak';
import { statsBenchmark } from './stats';
import { webhooksBenchmark } from './webhooks';
import { pgBenchmark } from './pg';
import { receiptsBenchmark } from './receipts';

export const benchmarks: readonly Benchmark[] = [
  webhooksBenchmark,
  receiptsBenchmark,
  pgBenchmark,
  outboxBenchmark,
  latencyBenchmark,
  campaignBenchmark,
  statsBenchmark,
  abuseBenchmark,
  secureDeleteBenchmark,
  ftsBenchmark,
  erasureBenchmark,
  soakBenchmark,
];

async function main(argv: readonly string[]): Promise<number> {
  const filters = argv.filter((a) => a !== '--');
  const selected = benchmarks.filter((b) => filters.length === 0 || filters.some((f) => b.name.includes(f)));
  if (selected.length === 0) {
    console.error(`no benchmark matches ${filters.join(' ')}; available: ${benchmarks.map((b) => b.name).join(', ')}`);
    return 2;
  }

  const cpu = cpus()[0]?.model.trim() ?? 'unknown cpu';
  console.log(`node ${process.version} · ${availableParallelism()} cpus (${cpu}) · ${process.platform}/${process.arch}`);
  let failed = 0;
  for (const b of selected) {
    console.log(`\n${b.name}: ${b.description}`);
    const started = performance.now();
    try {
      await b.run();
      console.log(`  (${((performance.now() - started) / 1000).toFixed(1)} s)`);
    } catch (err) {
      failed += 1;
      console.error(`  FAILED: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return failed > 0 ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2));
