curl 'https://shop.example.com/api/products?page=1&sort=popular' \
  -H 'accept: application/json' \
  -H 'accept-language: en-GB,en;q=0.9' \
  -b 'session=eyJ1c2VyIjo0Mn0.Zk3xQw.sEcReTsIgNaTuRe; _ga=GA1.1.1234567890.1733100000' \
  -H 'priority: u=1, i' \
  -H 'referer: https://shop.example.com/' \
  -H 'sec-ch-ua: "Google Chrome";v="131", "Chromium";v="131", "Not_A Brand";v="24"' \
  -H 'sec-ch-ua-mobile: ?0' \
  -H 'sec-ch-ua-platform: "Linux"' \
  -H 'sec-fetch-dest: empty' \
  -H 'sec-fetch-mode: cors' \
  -H 'sec-fetch-site: same-origin' \
  -H 'user-agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36' \
  -H 'x-requested-with: XMLHttpRequest' ;
curl 'https://shop.example.com/api/login' \
  -H 'accept: application/json' \
  -H 'content-type: application/json' \
  -H 'origin: https://shop.example.com' \
  -H 'sec-fetch-mode: cors' \
  -H 'user-agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36' \
  --data-raw $'{"email":"ada@example.com","password":"it\'s hunter2"}' ;
curl 'https://shop.example.com/api/cart' \
  -H 'accept: application/json' \
  -H 'authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI0MiJ9.c2lnbmF0dXJl' \
  -H 'content-type: application/json' \
  -b 'session=eyJ1c2VyIjo0Mn0.Zk3xQw.sEcReTsIgNaTuRe; _ga=GA1.1.1234567890.1733100000' \
  --data-raw '{"product_id":17,"quantity":1}' ;
curl 'https://fonts.gstatic.com/s/inter/v13/UcC73FwrK3iLTeHuS_fvQtMwCp50KnMa1ZL7.woff2' \
  -H 'origin: https://shop.example.com' \
  -H 'referer: https://shop.example.com/'
