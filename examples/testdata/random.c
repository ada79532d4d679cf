/*
 * random: prints 16 bytes from getentropy (random_get) as 32 lowercase hex
 * digits and a newline. Exit 0; exit 1 with a message if getentropy fails.
 */
#include <stdio.h>
#include <unistd.h>

int main(void)
{
    unsigned char bytes[16];
    if (getentropy(bytes, sizeof bytes) != 0) {
        perror("random: getentropy");
        return 1;
    }
    for (size_t i = 0; i < sizeof bytes; i++)
        printf("%02x", bytes[i]);
    putchar('\n');
    return 0;
}
