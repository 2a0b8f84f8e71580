/**
 * Generates data/sales.csv, the sample input of `deno task demo`: a few
 * hundred realistic, entirely made-up sales records. Deterministic (a fixed
 * seed), so re-running it reproduces the committed file byte for byte:
 *
 *     deno run --allow-write=data scripts/gen_sales_csv.ts
 *
 * @module
 */

// mulberry32: a tiny deterministic PRNG; quality is irrelevant here.
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const random = rng(20260115);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;

const REGIONS = [
  ["East China", "Hangzhou"],
  ["East China", "Shanghai"],
  ["North China", "Beijing"],
  ["South China", "Shenzhen"],
  ["South China", "Guangzhou"],
  ["Southwest", "Chengdu"],
  ["Central China", "Wuhan"],
  ["Asia Pacific", "Singapore"],
] as const;
const CUSTOMERS = [
  "Hangzhou Lakeside Trading Co.",
  "Shanghai Pudong Electronics Ltd.",
  "Beijing Northstar Logistics",
  "Shenzhen Bay Robotics",
  "Guangzhou Pearl Retail Group",
  "Chengdu Panda Foods",
  "Wuhan Riverside Manufacturing",
  "Lion City Cloud Pte. Ltd.",
  "Suzhou Garden Textiles",
  "Nanjing Purple Mountain Pharma",
  "Xiamen Harbour Shipping",
  "Qingdao Seaview Breweries",
] as const;
const PRODUCTS = [
  ["ECS-G7-4C16G", "Compute", 289.0],
  ["ECS-C7-8C16G", "Compute", 412.5],
  ["OSS-STD-1TB", "Storage", 120.0],
  ["OSS-IA-10TB", "Storage", 780.0],
  ["RDS-MYSQL-HA", "Database", 1540.0],
  ["POLARDB-8C32G", "Database", 2399.0],
  ["SLB-STD", "Network", 58.0],
  ["CDN-100TB", "Network", 3200.0],
  ["KMS-INSTANCE", "Security", 1800.0],
  ["WAF-PRO", "Security", 980.0],
  ["SUPPORT-BIZ", "Services", 500.0],
] as const;
const CHANNELS = ["Direct", "Partner", "Online", "Marketplace"] as const;
const REPS = ["Li Wei", "Zhang Min", "Wang Fang", "Chen Jie", "Liu Yang", "Tan Mei Ling"];

const csvField = (s: string) => /[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;

const rows = [
  "order_id,order_date,region,city,customer,sales_rep,channel,product_sku,category," +
  "quantity,unit_price_cny,discount_pct,total_cny,status",
];
const start = Date.UTC(2025, 0, 2);
const STATUSES = ["Delivered", "Delivered", "Delivered", "Shipped", "Invoiced", "Cancelled"];
for (let i = 0; i < 400; i++) {
  const day = new Date(start + Math.floor(i * 0.9 + random() * 3) * 86_400_000);
  const [region, city] = pick(REGIONS);
  const [sku, category, price] = pick(PRODUCTS);
  const quantity = 1 + Math.floor(random() * random() * 40);
  const discount = pick([0, 0, 0, 5, 5, 10, 12.5, 15]);
  const total = Math.round(quantity * price * (1 - discount / 100) * 100) / 100;
  rows.push([
    `SO-2025-${String(10001 + i)}`,
    day.toISOString().slice(0, 10),
    region,
    city,
    csvField(pick(CUSTOMERS)),
    pick(REPS),
    pick(CHANNELS),
    sku,
    category,
    String(quantity),
    price.toFixed(2),
    String(discount),
    total.toFixed(2),
    pick(STATUSES),
  ].join(","));
}
Deno.writeTextFileSync(new URL("../data/sales.csv", import.meta.url), rows.join("\n") + "\n");
