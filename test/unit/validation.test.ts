import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { environmentId, parseRequest, pointerOf, userReference } from '../../lib/http/validation.js';
import { apiRequest } from './support/requests.js';

describe('edge validation', () => {
  it('accepts a UPN, a guest UPN or an object id as {user}, and nothing else', () => {
    for (const ok of ['alice@contoso.onmicrosoft.com', 'john_fabrikam.com#EXT#@contoso.onmicrosoft.com', '7ff6c8e1-3e01-47ff-bf79-b744e56731b4']) {
      expect(userReference.safeParse(ok).success, ok).toBe(true);
    }
    for (const bad of ['', 'alice', "' or 1 eq 1", 'a@b', 'x'.repeat(200) + '@contoso.com', 'alice@contoso.com\n']) {
      expect(userReference.safeParse(bad).success, bad).toBe(false);
    }
  });

  it('accepts environment ids with dashes and refuses quotes or slashes', () => {
    expect(environmentId.safeParse('Default-099f18cd-c2b1-4991-acf9-ec30677febac').success).toBe(true);
    expect(environmentId.safeParse("x'y").success).toBe(false);
    expect(environmentId.safeParse('a/b').success).toBe(false);
  });

  it('escapes JSON pointer tokens', () => {
    expect(pointerOf([])).toBe('#');
    expect(pointerOf(['a/b', 'c~d', 0])).toBe('#/a~1b/c~0d/0');
  });

  it('names every bad field of path and body in one answer, and each unknown field on its own', () => {
    const result = parseRequest(
      apiRequest({ params: { env: 'bad env', user: 'nobody' }, body: { role: 5, extra: 1, other: true } }),
      {
        params: z.object({ env: environmentId, user: userReference }).strict(),
        body: z.object({ role: z.string() }).strict(),
      },
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.response.status).toBe(400);
    expect(result.errors.map((e) => `${e.in} ${e.pointer}`).sort()).toEqual(['body #/extra', 'body #/other', 'body #/role', 'path #/env', 'path #/user']);
  });

  it('answers a body that is not JSON with 400 on the body', () => {
    const result = parseRequest(apiRequest({ rawBody: '{"role": ' }), { body: z.object({ role: z.string() }) });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors).toEqual([{ in: 'body', pointer: '#', detail: 'the body is not valid JSON' }]);
  });

  it('refuses a body on a route that takes none, and accepts none, null or {}', () => {
    expect(parseRequest(apiRequest({ body: { x: 1 } }), {}).ok).toBe(false);
    expect(parseRequest(apiRequest({ body: [] }), {}).ok).toBe(false);
    expect(parseRequest(apiRequest({}), {}).ok).toBe(true);
    expect(parseRequest(apiRequest({ body: null }), {}).ok).toBe(true);
    expect(parseRequest(apiRequest({ body: {} }), {}).ok).toBe(true);
  });

  it('ignores the function key in the query string', () => {
    const request = apiRequest({});
    request.query = new URLSearchParams('code=abc&until=present');
    const result = parseRequest(request, { query: z.object({ until: z.string() }).strict() });
    expect(result.ok).toBe(true);
  });
});
