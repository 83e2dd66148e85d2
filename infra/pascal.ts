/** `run-probes` → `RunProbes`: construct ids from the kebab-case names the catalogue and `statemachines/` use. */
export const pascal = (name: string): string => name.replace(/(^|-)([a-z])/g, (_, _dash: string, c: string) => c.toUpperCase());
