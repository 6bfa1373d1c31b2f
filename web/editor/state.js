// state.js - what every view shares: the signed-in user and the server's
// locales and categories (fetched once, cached).

import { kb } from './api.js';

export const app = {
  user: null,
  locales: [],
  defaultLocale: 'en',
  categoryCache: new Map(),
};

export async function loadLocales() {
  if (app.locales.length) return app.locales;
  const r = await kb.locales();
  app.locales = Array.isArray(r.locales) && r.locales.length ? r.locales : ['en'];
  app.defaultLocale = r.default || app.locales[0];
  return app.locales;
}

// Categories of one locale ([{slug,name,…}]); [] when the request fails.
export async function categoriesFor(locale) {
  const key = locale || app.defaultLocale;
  if (!app.categoryCache.has(key)) {
    const p = kb.categories(key).then((r) => r.categories || []).catch(() => []);
    app.categoryCache.set(key, p);
  }
  return app.categoryCache.get(key);
}

export function forgetCategories() {
  app.categoryCache.clear();
}

export function localeOptions(withAll = false) {
  const opts = app.locales.map((l) => [l, l]);
  return withAll ? [['', 'All locales'], ...opts] : opts;
}
