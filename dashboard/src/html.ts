/** Preact's `h` through htm's tagged templates: components written as HTML-like templates, with no JSX build step. */
import htm from 'htm';
import { h, type VNode } from 'preact';

export const html = htm.bind(h) as (strings: TemplateStringsArray, ...values: unknown[]) => VNode;
