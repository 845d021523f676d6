import { createContext, useContext, useMemo, type ReactNode } from 'react';
import ar from './messages/ar.json';
import en from './messages/en.json';
import es from './messages/es.json';
import fr from './messages/fr.json';

// Every text the console shows comes from these catalogues; en.json is the reference and the
// others must carry the same keys (test/console.e2e-spec.ts and the catalogue check keep them so).

export type Messages = typeof en;
export type MessageKey = keyof Messages;
export const LANGUAGES = { en, fr, es, ar } as const satisfies Record<string, Messages>;
export type Language = keyof typeof LANGUAGES;
export const LANGUAGE_NAMES: Record<Language, string> = { en: 'English', fr: 'Français', es: 'Español', ar: 'العربية' };
export const isRtl = (lang: Language): boolean => lang === 'ar';

export interface I18n {
  lang: Language;
  t: (key: MessageKey, vars?: Record<string, string | number>) => string;
  /** A label for an API code (enum value, rule id) when the catalogue has one, else the code itself. */
  code: (prefix: string, value: string) => string;
  /**
   * A field error from a problem+json in the user's language, by its stable code (and the names of
   * its params, e.g. `error.invalid-length.min`); the API's English text for a code the catalogue lacks.
   */
  fieldError: (e: { code: string; message: string; params?: Record<string, string | number> }) => string;
  date: (iso: string | null | undefined) => string;
  num: (n: number, digits?: number) => string;
}

const Ctx = createContext<I18n | null>(null);

export function I18nProvider({ lang, children }: { lang: Language; children: ReactNode }) {
  const value = useMemo<I18n>(() => {
    const cat = LANGUAGES[lang] as Record<string, string>;
    const dates = new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeStyle: 'medium' });
    const nums = new Map<number, Intl.NumberFormat>();
    return {
      lang,
      t: (key, vars) => {
        let s = cat[key] ?? (en as Record<string, string>)[key] ?? key;
        if (vars)
          for (const [k, v] of Object.entries(vars))
            s = s.replaceAll(`{${k}}`, typeof v === 'number' ? new Intl.NumberFormat(lang).format(v) : v);
        return s;
      },
      code: (prefix, value) => cat[`${prefix}.${value}`] ?? value,
      fieldError: (e) => {
        const params = e.params ?? {};
        const names = Object.keys(params).sort();
        const text = (names.length > 0 ? cat[`error.${e.code}.${names.join('.')}`] : undefined) ?? cat[`error.${e.code}`];
        if (text === undefined) return e.message;
        return Object.entries(params).reduce(
          (s, [k, v]) => s.replaceAll(`{${k}}`, typeof v === 'number' ? new Intl.NumberFormat(lang).format(v) : v),
          text,
        );
      },
      date: (iso) => (iso ? dates.format(new Date(iso)) : '—'),
      num: (n, digits = 0) => {
        if (!nums.has(digits)) nums.set(digits, new Intl.NumberFormat(lang, { maximumFractionDigits: digits }));
        return nums.get(digits)!.format(n);
      },
    };
  }, [lang]);
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}

export function useI18n(): I18n {
  const v = useContext(Ctx);
  if (!v) throw new Error('useI18n outside I18nProvider');
  return v;
}
